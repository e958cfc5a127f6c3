import type { z } from 'zod';
import { auth } from './auth.ts';
import { cart } from './cart.ts';
import { order } from './order.ts';
import { product } from './product.ts';
import { catalogOf } from './task.ts';

export { auth, cart, order, product };
export * from './task.ts';
export * from './queues.ts';

/** Every task the hub runs, by full name. The one list producer, worker, beat and dashboard share. */
export const catalog = catalogOf(auth, cart, order, product);

export type Catalog = typeof catalog;
export type TaskName = keyof Catalog & string;
/** What a caller passes (defaults may be omitted). */
export type PayloadOf<N extends TaskName> = z.input<Catalog[N]['schema']>;
/** What a handler receives (defaults filled in). */
export type InputOf<N extends TaskName> = z.output<Catalog[N]['schema']>;
