import type { z } from 'zod';
import type { catalog } from './index.ts';

type Catalog = typeof catalog;
type Name = keyof Catalog & string;
type Payload<N extends Name> = z.input<Catalog[N]['schema']>;
type KeysOf<T> = T extends unknown ? keyof T : never;
type AnyPayloadKey = KeysOf<Payload<Name>> & string;

/**
 * A task's payload, closed: returning a field that another task takes but this one does not (say,
 * the whole event passed on as is) is a compile error, as the task's strict schema would refuse
 * it at every publish. (Closed over the event's own fields too would be tighter, but a type that
 * depends on the event defeats TypeScript's contextual typing of the mapping's literals.)
 */
type Closed<P> = P & { [K in Exclude<AnyPayloadKey, keyof P>]?: never };

/** One task an event fans out to, and how the event (as its schema parsed it) becomes that task's payload. */
export type Subscriber<E, N extends Name = Name> = N extends Name ? { task: N; map: (event: E) => Closed<Payload<N>> } : never;

/** The written form of one event (events.ts). */
export interface EventSpec<S extends z.ZodType = z.ZodType> {
  description: string;
  /** What a publisher sends; its JSON Schema is in GET /api/v1/events. */
  schema: S;
  /** Each becomes one job of its own, with its own retries; one task at most once per event. */
  subscribers: readonly Subscriber<z.output<S>>[];
}

/** Any event as the hub reads it at run time (names and mappings unchecked by the compiler). */
export interface AnyEventSpec {
  description: string;
  schema: z.ZodType;
  subscribers: readonly { task: string; map: (event: never) => unknown }[];
}
export type AnyEvents = Readonly<Record<string, AnyEventSpec>>;

/** `<domain>.<pastTense>`: used in URLs and token scopes as is. */
export const EVENT_NAME = /^[a-z][a-zA-Z0-9]{0,40}\.[a-z][a-zA-Z0-9]{0,60}$/;

/**
 * Types each event's subscribers against the contracts: the mapping's parameter is the event's
 * parsed type and its result must be the task's payload. Every role checks the rest at start
 * (src/core/check-events.ts): unknown tasks, duplicate subscribers, names.
 */
export const defineEvents = <const S extends Record<string, z.ZodType>>(events: { [K in keyof S]: EventSpec<S[K]> }) => events;
