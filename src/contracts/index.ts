import type { z } from 'zod';
import { auth } from './auth.ts';
import { cart } from './cart.ts';
import { order } from './order.ts';
import { product } from './product.ts';
import { catalogOf } from './task.ts';

export { auth, cart, order, product };
export * from './task.ts';
export * from './queues.ts';

/** The domains, each a file of contracts: adding one means its file, this list and its handlers (tasks/index.ts). */
const domains = [auth, cart, order, product] as const;

/** Every task the hub runs, by full name. The one list producer, worker, beat and dashboard share. */
export const catalog = catalogOf(...domains);

export type Catalog = typeof catalog;
export type TaskName = keyof Catalog & string;
export type DomainName = TaskName extends `${infer D}.${string}` ? D : never;
/** What a caller passes (defaults may be omitted). */
export type PayloadOf<N extends TaskName> = z.input<Catalog[N]['schema']>;
/** What a handler receives (defaults filled in). */
export type InputOf<N extends TaskName> = z.output<Catalog[N]['schema']>;
