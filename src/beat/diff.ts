import type { JobSchedulerJson } from 'bullmq';
import { withoutScheduleTrace } from '../core/job-meta.ts';
import type { PlannedEntry } from './plan-entries.ts';

/** JSON with sorted keys, so equal values compare equal whatever their key order. */
const canonical = (value: unknown): string =>
  JSON.stringify(value, (_k, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b)))
      : v,
  ) ?? 'undefined';

const pick = (from: object | undefined, keys: readonly string[]) =>
  Object.fromEntries(keys.map((k) => [k, (from as Record<string, unknown> | undefined)?.[k]]));

/**
 * What differs between an entry and the scheduler Redis holds for it; empty when nothing
 * does. Only the options beat sets are compared, so BullMQ's own bookkeeping is not a change.
 */
export const differences = (entry: PlannedEntry, actual: JobSchedulerJson): string[] => {
  const found: string[] = [];
  const compare = (what: string, want: unknown, have: unknown) => {
    if (canonical(want ?? null) !== canonical(have ?? null)) found.push(`${what}: ${canonical(have ?? null)} -> ${canonical(want ?? null)}`);
  };
  compare('task', entry.task, actual.name);
  compare('cron', entry.repeat.pattern, actual.pattern);
  compare('everyMs', entry.repeat.every, actual.every);
  compare('tz', entry.repeat.tz, actual.tz);
  // The span link beat adds when it traces is not part of the entry.
  compare('data', entry.data, withoutScheduleTrace(actual.template?.data));
  const keys = Object.keys(entry.opts);
  compare('job options', pick(entry.opts, keys), pick(actual.template?.opts, keys));
  return found;
};
