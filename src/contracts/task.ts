import type { z } from 'zod';
import type { RetryPolicy } from './queues.ts';

/** A top-level field of the payload (any string for an untyped schema). */
export type PayloadKey<S extends z.ZodType> = unknown extends z.output<S> ? string : Extract<keyof z.output<S>, string>;

export interface TaskSpec<S extends z.ZodType = z.ZodType> {
  description: string;
  schema: S;
  /** Defaults to the domain's queue; a heavy task may name a queue of its own. */
  queue?: string;
  /** Overrides the queue's retry policy. Fixed at enqueue, so the producer must see it. */
  retry?: RetryPolicy;
  /** One attempt's budget; past it the handler's signal aborts and the attempt is retried. */
  timeoutMs: number;
  /** Top-level payload fields shown as [redacted] by the dashboard and the API, and redacted from every log line. */
  sensitive?: readonly string[];
  /**
   * A job not started this long after it was due (enqueued, or its delay over) fails as expired
   * without running, and is not retried: for work that is worse late than never.
   */
  expiresAfterMs?: number;
  /**
   * Business keys: payload fields (string or number) that name what the job is about
   * (`orderId`). The producer indexes the job under each, so every job for that order can be
   * listed (GET /api/v1/jobs?key=orderId:<id>, `task-hub jobs --key`). Costs the enqueue one
   * more Redis round trip; tasks without keys pay nothing.
   */
  keys?: readonly string[];
  /**
   * Jobs whose payloads give the same key run at most `perKey` at a time over the whole fleet
   * (e.g. `(p) => p.orderId`); other keys keep flowing, and one key's jobs run in enqueue order.
   */
  concurrencyKey?(input: z.output<S>): string;
  /** With concurrencyKey: how many jobs of one key may run at once (default 1). */
  perKey?: number;
}

export interface TaskContract<N extends string = string, S extends z.ZodType = z.ZodType> {
  name: N;
  domain: string;
  queue: string;
  description: string;
  schema: S;
  retry?: RetryPolicy;
  timeoutMs: number;
  sensitive: readonly string[];
  expiresAfterMs?: number;
  keys: readonly string[];
  /** See TaskSpec; method syntax so a contract of any payload type is an AnyContract. */
  concurrencyKey?(input: z.output<S>): string;
  perKey?: number;
}

export type AnyContract = TaskContract<string, z.ZodType>;

type DomainContracts<D extends string, T extends Record<string, TaskSpec>> = {
  readonly [K in keyof T & string]: TaskContract<`${D}.${K}`, T[K]['schema']>;
};

/** `keys` are checked here against the schema's fields (TaskSpec itself keeps them as strings, so specs stay assignable). */
export const task = <S extends z.ZodType>(spec: TaskSpec<S> & { keys?: readonly NoInfer<PayloadKey<S>>[] }): TaskSpec<S> => spec;

export const domain = <const D extends string, T extends Record<string, TaskSpec>>(
  name: D,
  tasks: T,
): DomainContracts<D, T> =>
  Object.fromEntries(
    Object.entries(tasks).map(([key, spec]) => [
      key,
      {
        name: `${name}.${key}`,
        domain: name,
        queue: spec.queue ?? name,
        description: spec.description,
        schema: spec.schema,
        retry: spec.retry,
        timeoutMs: spec.timeoutMs,
        sensitive: spec.sensitive ?? [],
        ...(spec.expiresAfterMs !== undefined ? { expiresAfterMs: spec.expiresAfterMs } : {}),
        keys: spec.keys ?? [],
        // Only keyed contracts carry the fields: the worker's hot path checks for concurrencyKey.
        ...(spec.concurrencyKey || spec.perKey !== undefined ? { concurrencyKey: spec.concurrencyKey, perKey: spec.perKey ?? 1 } : {}),
      },
    ]),
  ) as unknown as DomainContracts<D, T>;

type UnionToIntersection<U> = (U extends unknown ? (x: U) => void : never) extends (x: infer I) => void ? I : never;
type ByName<D> = D extends Record<string, infer C> ? (C extends AnyContract ? { [N in C['name']]: Extract<C, { name: N }> } : never) : never;

/** Flattens domains into one catalog keyed by full task name (`order.sendConfirmation`). */
export const catalogOf = <const Ds extends readonly Record<string, AnyContract>[]>(...domains: Ds) => {
  const catalog: Record<string, AnyContract> = {};
  for (const d of domains) for (const c of Object.values(d)) catalog[c.name] = c;
  return catalog as UnionToIntersection<ByName<Ds[number]>>;
};
