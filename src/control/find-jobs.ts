import type { JobType, Queue } from 'bullmq';

export const JOB_STATES = ['waiting', 'active', 'delayed', 'prioritized', 'waiting-children', 'completed', 'failed'] as const;
export type JobStateName = (typeof JOB_STATES)[number];

/** Newest jobs are read in pages of this many; at most SCAN_LIMIT per request, so a huge queue stays cheap. */
const PAGE = 200;
const SCAN_LIMIT = 5_000;

/**
 * Bull Board has no search: the newest jobs of one task in one state. BullMQ indexes jobs by
 * state, not by name, so this pages through the state's newest jobs and keeps the task's, up to
 * SCAN_LIMIT; `complete: false` says older matches may exist.
 */
export const findJobs = async (queue: Queue, { task, state, limit }: { task: string; state: JobStateName; limit: number }) => {
  const found = [];
  let scanned = 0;
  let complete = false;
  while (found.length < limit) {
    if (scanned >= SCAN_LIMIT) break;
    const page = await queue.getJobs([state as JobType], scanned, scanned + PAGE - 1, false);
    scanned += page.length;
    for (const job of page) {
      if (job?.name !== task) continue;
      found.push({
        id: job.id!,
        task: job.name,
        state,
        attemptsMade: job.attemptsMade,
        createdAt: job.timestamp,
        finishedAt: job.finishedOn,
        failedReason: job.failedReason || undefined,
        boardUrl: `/queue/${encodeURIComponent(queue.name)}/${encodeURIComponent(job.id!)}`,
      });
      if (found.length >= limit) break;
    }
    if (page.length < PAGE) {
      complete = true;
      break;
    }
  }
  return { jobs: found, scanned, complete };
};
