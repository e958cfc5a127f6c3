import { z } from 'zod';
import { catalog } from '../contracts/index.ts';
import { didYouMean } from '../core/did-you-mean.ts';
import { ERROR_CLASSES } from '../core/failure-record.ts';
import { problemsOf } from '../core/validate.ts';
import { InvalidInputError } from './errors.ts';

const taskNames = Object.keys(catalog);

/** `2026-05-01`, `2026-05-01T12:00:00Z` or epoch milliseconds; anything else names the field. */
export const Instant = z.union([z.number(), z.string()]).transform((v, ctx) => {
  const ms = typeof v === 'number' ? v : /^\d{1,16}$/.test(v.trim()) ? Number(v) : /^\d{4}-\d{2}-\d{2}/.test(v.trim()) ? Date.parse(v) : NaN;
  if (!Number.isSafeInteger(ms) || ms < 0) {
    ctx.addIssue({ code: 'custom', message: 'expected an ISO date (2026-05-01 or 2026-05-01T12:00:00Z) or epoch milliseconds' });
    return z.NEVER;
  }
  return ms;
});

export const TaskName = z.string().superRefine((t, ctx) => {
  if (!Object.hasOwn(catalog, t)) ctx.addIssue({ code: 'custom', message: `unknown task "${t.slice(0, 100)}"${didYouMean(t, taskNames)} (see GET /api/v1/tasks)` });
});

/** Which failed jobs: the same filter lists them (GET /api/v1/jobs), counts and replays them. */
export const FailedFilter = z
  .strictObject({
    task: TaskName.optional(),
    /** Failed at or after (the failed set's score: when the job finished). */
    since: Instant.optional(),
    /** Failed at or before. */
    until: Instant.optional(),
    class: z.enum(ERROR_CLASSES).optional(),
    /** The HTTP status of the job's last service call. */
    status: z.coerce.number().int().min(100).max(599).optional(),
  })
  .superRefine((f, ctx) => {
    if (f.since !== undefined && f.until !== undefined && f.since > f.until) ctx.addIssue({ code: 'custom', path: ['until'], message: 'until is before since' });
  });
export type FailedFilter = z.infer<typeof FailedFilter>;

/** Parses with zod and answers bad input as InvalidInputError naming each field. */
export const parseInput = <S extends z.ZodType>(schema: S, input: unknown, what: string, code?: string): z.output<S> => {
  const r = schema.safeParse(input);
  if (r.success) return r.data;
  const { fields, text } = problemsOf(r.error);
  throw new InvalidInputError(`invalid ${what}: ${text.replace(/\n/g, ' ')}`, fields, code);
};

/** The filter as the audit log and the answers show it: dates in ISO form. */
export const describeFilter = (f: FailedFilter): Record<string, unknown> => ({
  ...(f.task ? { task: f.task } : {}),
  ...(f.since !== undefined ? { since: new Date(f.since).toISOString() } : {}),
  ...(f.until !== undefined ? { until: new Date(f.until).toISOString() } : {}),
  ...(f.class ? { class: f.class } : {}),
  ...(f.status !== undefined ? { status: f.status } : {}),
});
