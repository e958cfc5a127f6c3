import type { z } from 'zod';
import type { RetryPolicy } from './queues.ts';

export interface TaskSpec<S extends z.ZodType = z.ZodType> {
  description: string;
  schema: S;
  /** Defaults to the domain's queue; a heavy task may name a queue of its own. */
  queue?: string;
  /** Overrides the queue's retry policy. Fixed at enqueue, so the producer must see it. */
  retry?: RetryPolicy;
  /** One attempt's budget; past it the handler's signal aborts and the attempt is retried. */
  timeoutMs: number;
  /** Payload fields shown as [redacted] in the dashboard and never logged. */
  sensitive?: readonly string[];
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
}

export type AnyContract = TaskContract<string, z.ZodType>;

type DomainContracts<D extends string, T extends Record<string, TaskSpec>> = {
  readonly [K in keyof T & string]: TaskContract<`${D}.${K}`, T[K]['schema']>;
};

export const task = <S extends z.ZodType>(spec: TaskSpec<S>): TaskSpec<S> => spec;

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
