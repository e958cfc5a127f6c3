import type { DomainName } from '../src/contracts/index.ts';
import auth from './auth.ts';
import cart from './cart.ts';
import order from './order.ts';
import product from './product.ts';
import type { TaskHandler } from './context.ts';

/** Handlers per domain of src/contracts: a domain listed there without its entry here does not compile. */
const byDomain: Record<DomainName, readonly TaskHandler[]> = { auth, cart, order, product };

/** Every handler the worker runs. buildRegistry checks it covers the contract catalog exactly. */
export const handlers: readonly TaskHandler[] = Object.values(byDomain).flat();
