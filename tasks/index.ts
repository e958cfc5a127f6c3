import auth from './auth.ts';
import cart from './cart.ts';
import order from './order.ts';
import product from './product.ts';
import type { TaskHandler } from './context.ts';

/** Every handler the worker runs. A test checks it covers the contract catalog exactly. */
export const handlers: readonly TaskHandler[] = [...auth, ...cart, ...order, ...product];
