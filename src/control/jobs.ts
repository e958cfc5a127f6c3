import { z } from 'zod';
import { catalog, type AnyContract } from '../contracts/index.ts';
import { ERROR_CLASSES, FAILURE_FIELD, readFailure } from '../core/failure-record.ts';
import type { JobInfo } from '../producer/index.ts';
import type { Control } from './control.ts';
import { NotFoundError } from './errors.ts';
import { Instant, parseInput, TaskName } from './failed-filter.ts';
import { listFailed } from './failed-jobs.ts';
import { findJobs, JOB_STATES } from './find-jobs.ts';
import { jobsByKey } from './jobs-by-key.ts';

const contracts = catalog as Record<string, AnyContract>;

/**
 * GET /api/v1/jobs and `task-hub jobs`, one query: by business key (`key=orderId:123`, every
 * queue); failed jobs by task, time window, error class and HTTP status; or the newest jobs of a
 * task in a state.
 */
export const JobsQuery = z
  .strictObject({
    task: TaskName.optional(),
    state: z.enum(JOB_STATES).optional(),
    key: z.string().min(1).max(300).optional(),
    since: Instant.optional(),
    until: Instant.optional(),
    class: z.enum(ERROR_CLASSES).optional(),
    status: z.coerce.number().int().min(100).max(599).optional(),
    limit: z.coerce.number().int().min(1).max(100).default(20),
  })
  .superRefine((q, ctx) => {
    const failedOnly = q.since !== undefined || q.until !== undefined || q.class !== undefined || q.status !== undefined;
    if (failedOnly && q.state !== undefined && q.state !== 'failed') {
      ctx.addIssue({ code: 'custom', path: ['state'], message: 'since, until, class and status filter failed jobs: use state=failed or leave state out' });
    }
    if (failedOnly && q.key !== undefined) ctx.addIssue({ code: 'custom', path: ['key'], message: 'key lists every job of a key; it does not combine with since, until, class or status' });
    if (!q.key && !failedOnly && q.state !== 'failed' && !(q.task && q.state)) {
      ctx.addIssue({ code: 'custom', path: ['state'], message: 'give task and state, state=failed (with since, until, class, status), or key' });
    }
    if (q.since !== undefined && q.until !== undefined && q.since > q.until) ctx.addIssue({ code: 'custom', path: ['until'], message: 'until is before since' });
  });
export type JobsQuery = z.infer<typeof JobsQuery>;

export const parseJobsQuery = (input: unknown): JobsQuery => parseInput(JobsQuery, input, 'query', 'invalid_query');

export const listJobs = async (ctl: Control, q: JobsQuery, mayRead: (task: string) => boolean = () => true) => {
  if (q.key) {
    const found = await jobsByKey(ctl, q.key, { limit: Math.max(q.limit, 50), mayRead });
    const jobs = found.jobs.filter((j) => (!q.task || j.task === q.task) && (!q.state || j.state === q.state));
    return { ...found, jobs: jobs.slice(0, q.limit) };
  }
  if (q.state === 'failed' || !q.state) {
    return listFailed(ctl, { task: q.task, since: q.since, until: q.until, class: q.class, status: q.status }, { limit: q.limit, mayRead });
  }
  return findJobs(ctl.queue(contracts[q.task!]!.queue), { task: q.task!, state: q.state, limit: q.limit });
};

/** `task-hub job <id>`, GET /api/v1/jobs/{id}: the producer's view, plus why it failed. */
export const jobInfo = async (ctl: Control, id: string): Promise<JobInfo & { errorClass?: string; httpStatus?: number }> => {
  const job = /^[A-Za-z0-9._-]{1,200}$/.test(id) ? await ctl.producer('control').getJob(id) : undefined;
  if (!job) throw new NotFoundError('job_not_found', `job ${String(id).slice(0, 200)} not found (never enqueued, or removed by retention)`);
  if (job.state !== 'failed') return job;
  const record = await ctl.redis.hget(ctl.queue(job.queue).toKey(job.id), FAILURE_FIELD);
  const failure = readFailure(record, job.failedReason);
  return { ...job, errorClass: failure.class, ...(failure.status !== undefined ? { httpStatus: failure.status } : {}) };
};
