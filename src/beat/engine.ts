import { createRequire } from 'node:module';
import { getNextMillis } from 'bullmq';

/**
 * The cron engine that fires our jobs is the cron-parser BullMQ depends on. Resolve it from
 * BullMQ's own location, so beat validates with exactly that copy even if another version of
 * cron-parser is ever installed at the top level.
 */
const fromBullmq = createRequire(createRequire(import.meta.url).resolve('bullmq'));
const cronParser = fromBullmq('cron-parser') as typeof import('cron-parser');

export const cronParserVersion = (): string => (fromBullmq('cron-parser/package.json') as { version: string }).version;

export const isTimeZone = (tz: string): boolean => {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
};

/** Why BullMQ's cron engine rejects the pattern, or undefined when it accepts it. */
export const cronProblem = (pattern: string, tz?: string): string | undefined => {
  try {
    // A bad time zone only fails at next(): ask for one run, as the scheduler will.
    cronParser.CronExpressionParser.parse(pattern, { tz, currentDate: new Date() }).next();
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
};

export interface Repeat {
  pattern?: string;
  every?: number;
  tz?: string;
}

/**
 * The next `count` fire times after `from`, computed the way BullMQ's scheduler iterates:
 * each run is BullMQ's getNextMillis() of the previous one.
 */
export const nextRuns = (repeat: Repeat, from: number, count: number): number[] => {
  const runs: number[] = [];
  let at = from;
  for (let i = 0; i < count; i++) {
    const next = repeat.every ? at + repeat.every : getNextMillis(at, repeat);
    if (next === undefined) break;
    runs.push(next);
    at = next;
  }
  return runs;
};
