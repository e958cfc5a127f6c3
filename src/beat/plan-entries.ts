import type { JobSchedulerTemplateOptions } from 'bullmq';
import type { ScheduleEntry } from '../contracts/schedule.ts';
import { ConfigError } from '../core/errors.ts';
import { jobOptionsFor } from '../core/job-options.ts';
import { withMeta } from '../core/job-meta.ts';
import { validateTask } from '../core/validate.ts';
import { cronProblem, isTimeZone, type Repeat } from './engine.ts';

/** An entry checked against the contracts and the cron engine: what beat writes to Redis. */
export interface PlannedEntry {
  id: string;
  task: string;
  queue: string;
  repeat: Repeat;
  /** The template's job data: the parsed payload (defaults filled in) plus `$hub` meta. */
  data: Record<string, unknown>;
  opts: JobSchedulerTemplateOptions;
  noOverlap: boolean;
}

export class ScheduleError extends ConfigError {
  override name = 'ScheduleError';
  /** `source`: the schedule's file as the user would name it (see load-schedule.ts). */
  constructor(
    readonly source: string,
    readonly problems: string[],
  ) {
    super(`${source}: ${problems.length} problem${problems.length === 1 ? '' : 's'}:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

export const ENTRY_ID = /^[a-z0-9]+(-[a-z0-9]+)*$/;
const MIN_EVERY_MS = 1_000;

type Raw = Partial<Record<keyof ScheduleEntry | 'everyMs' | 'cron' | 'tz', unknown>>;

const timingOf = (e: Raw): { repeat?: Repeat; problem?: string } => {
  const hasCron = e.cron !== undefined;
  const hasEvery = e.everyMs !== undefined;
  if (hasCron === hasEvery) return { problem: hasCron ? 'has both cron and everyMs; give one' : 'needs cron or everyMs' };
  if (hasEvery) {
    if (e.tz !== undefined) return { problem: 'tz applies to cron only; drop it or use cron' };
    if (!Number.isInteger(e.everyMs) || (e.everyMs as number) < MIN_EVERY_MS) {
      return { problem: `everyMs must be an integer >= ${MIN_EVERY_MS}, got ${JSON.stringify(e.everyMs)}` };
    }
    return { repeat: { every: e.everyMs as number } };
  }
  if (typeof e.cron !== 'string') return { problem: `cron must be a string, got ${JSON.stringify(e.cron)}` };
  if (e.tz !== undefined && (typeof e.tz !== 'string' || !isTimeZone(e.tz))) {
    return { problem: `unknown time zone ${JSON.stringify(e.tz)} (use an IANA name such as "Europe/Berlin")` };
  }
  const tz = e.tz as string | undefined;
  const problem = cronProblem(e.cron, tz);
  if (problem) return { problem: `cron "${e.cron}" is rejected by BullMQ's cron engine: ${problem}` };
  return { repeat: { pattern: e.cron, ...(tz ? { tz } : {}) } };
};

const planOne = (e: Raw, id: string): PlannedEntry | string[] => {
  const problems: string[] = [];
  const { repeat, problem } = timingOf(e);
  if (problem) problems.push(problem);
  let checked: ReturnType<typeof validateTask> | undefined;
  try {
    checked = validateTask(String(e.task), e.payload ?? {});
  } catch (err) {
    problems.push((err as Error).message);
  }
  if (problems.length || !checked || !repeat) return problems;
  const data = withMeta(checked.payload, { schedule: id, service: 'beat', ...(e.noOverlap === true ? { noOverlap: true } : {}) });
  return {
    id,
    task: checked.contract.name,
    queue: checked.contract.queue,
    repeat,
    data,
    opts: jobOptionsFor(checked.contract),
    noOverlap: e.noOverlap === true,
  };
};

/** Checks every entry and reports every problem at once, each naming its entry; `source` names the file. */
export const planEntries = (entries: readonly unknown[], source = 'schedule'): PlannedEntry[] => {
  const problems: string[] = [];
  const planned: PlannedEntry[] = [];
  const seen = new Set<string>();
  entries.forEach((raw, index) => {
    const e = (raw ?? {}) as Raw;
    const id = typeof e.id === 'string' ? e.id : '';
    const name = id ? `entry "${id}"` : `entry #${index + 1}`;
    if (!ENTRY_ID.test(id)) problems.push(`${name}: id must be kebab-case (${ENTRY_ID}), got ${JSON.stringify(e.id)}`);
    else if (seen.has(id)) problems.push(`${name}: duplicate id; ids must be unique`);
    seen.add(id);
    const result = planOne(e, id);
    if (Array.isArray(result)) problems.push(...result.map((p) => `${name}: ${p}`));
    else planned.push(result);
  });
  if (problems.length) throw new ScheduleError(source, problems);
  return planned;
};
