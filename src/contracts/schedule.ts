import type { z } from 'zod';
import type { catalog } from './index.ts';

type Catalog = typeof catalog;
type Name = keyof Catalog & string;
type Payload<N extends Name> = z.input<Catalog[N]['schema']>;

/** Cron in a time zone (default UTC), or a fixed interval; never both. */
export type ScheduleTiming =
  | { cron: string; tz?: string; everyMs?: never }
  | { everyMs: number; cron?: never; tz?: never };

interface EntryBase<N extends Name> {
  /** Kebab-case, unique, and stable: it is the BullMQ job scheduler id, so renaming it is remove + add. */
  id: string;
  task: N;
  description?: string;
  /**
   * Skip a tick while the previous run of this entry is still going, instead of running both.
   * Enforced by the worker (see src/core/no-overlap.ts).
   */
  noOverlap?: boolean;
}

/** The payload may be left out only when the task's schema accepts `{}`. */
type EntryFor<N extends Name> = EntryBase<N> &
  ({} extends Payload<N> ? { payload?: Payload<N> } : { payload: Payload<N> }) &
  ScheduleTiming;

/** The written form of one periodic entry: one member per task, so `payload` is typed by `task`. */
export type ScheduleEntry = { [N in Name]: EntryFor<N> }[Name];

/** Types the entries against the contracts; beat checks everything else (cron, tz, ids) at start. */
export const defineSchedule = <const E extends readonly ScheduleEntry[]>(entries: E): E => entries;
