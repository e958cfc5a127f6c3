import type { Redis } from 'ioredis';
import type { JobState } from 'bullmq';
import type { PayloadOf, TaskName } from '../contracts/index.ts';

export interface ProducerOptions {
  /** Where the hub's Redis is; or pass `connection` to share one you own. */
  redisUrl?: string;
  connection?: Redis;
  /** Key prefix of the hub's queues (HUB_PREFIX of the hub). */
  prefix?: string;
  /** Who enqueues: recorded on each job, shown in the dashboard. */
  service: string;
  /** Deadline for every call that touches Redis. */
  timeoutMs?: number;
  maxPayloadBytes?: number;
}

export interface EnqueueOptions {
  /** Carried as X-Request-ID on every HTTP call the task makes. Absent: `hub-<queue>-<jobId>`, derived by the worker. */
  requestId?: string;
  delayMs?: number;
  /** 1 (highest) .. 2_097_152; absent means FIFO before any prioritised job. */
  priority?: number;
  /** The same key for the same task enqueues once while the job is retained; later calls get the same id. */
  idempotencyKey?: string;
  /** Drop new jobs with this id while one is waiting/active (or for ttlMs): BullMQ deduplication. */
  dedup?: { id: string; ttlMs?: number };
}

export interface EnqueuedJob<N extends TaskName = TaskName> {
  id: string;
  task: N;
  queue: string;
}

/** A hub job id alone finds its queue; a plain BullMQ id (from another client) needs its queue named. */
export type JobRef = string | { id: string; queue: string };

export interface EnqueueItem<N extends TaskName = TaskName> {
  task: N;
  payload: PayloadOf<N>;
  options?: EnqueueOptions;
}

export interface JobInfo {
  id: string;
  task: string;
  queue: string;
  state: JobState | 'unknown';
  attemptsMade: number;
  maxAttempts: number;
  /** The payload, with the task's sensitive fields redacted. */
  payload: unknown;
  /** The enqueue's requestId, or the one derived from the job id (what its HTTP calls carried). */
  requestId: string;
  service?: string;
  progress: unknown;
  result?: unknown;
  failedReason?: string;
  createdAt: number;
  startedAt?: number;
  finishedAt?: number;
}

export interface WaitOptions {
  timeoutMs?: number;
}
