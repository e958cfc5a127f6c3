import type { JobState } from 'bullmq';
import type { PayloadOf, TaskName } from '../contracts/index.ts';
import type { ClusterTarget, RedisClient } from '../core/redis.ts';

export interface ProducerOptions {
  /** Where the hub's Redis is; or `cluster` for a Redis Cluster; or pass `connection` (a Redis or a Cluster) to share one you own. */
  redisUrl?: string;
  /** A Redis Cluster: some of its nodes (`'10.0.0.5:7000'` or `{ host, port }`), and its password / TLS if any. */
  cluster?: ClusterTarget;
  connection?: RedisClient;
  /** Key prefix of the hub's queues (HUB_PREFIX of the hub). */
  prefix?: string;
  /**
   * Who enqueues: recorded on each job, shown in the dashboard. Idempotency keys are scoped to it,
   * so keep it the same on every replica of a service.
   */
  service: string;
  /** Deadline for every call that touches Redis. */
  timeoutMs?: number;
  /**
   * `'primary'` (default): an enqueue succeeds once the Redis primary holding the job has it.
   * Replication is asynchronous, so a primary that dies right after can take acknowledged jobs
   * with it. `'replicated'`: it succeeds only once `replicas` replica(s) of that primary have
   * it too (WAIT, within `replicaTimeoutMs`; else EnqueueError naming the job id). Costs a wait
   * for a replica on every enqueue (README, "Redis Cluster").
   */
  durability?: 'primary' | 'replicated';
  /** With durability 'replicated': how many replicas must hold the job (1). */
  replicas?: number;
  /** With durability 'replicated': how long to wait for them (1000 ms), under timeoutMs. */
  replicaTimeoutMs?: number;
  maxPayloadBytes?: number;
  /** Most members (group, chord) or steps (chain) one workflow may have (10,000). */
  maxWorkflowMembers?: number;
}

export interface EnqueueOptions {
  /** Carried as X-Request-ID on every HTTP call the task makes. Absent: `hub-<queue>-<jobId>`, derived by the worker. */
  requestId?: string;
  delayMs?: number;
  /** 1 (highest) .. 2_097_152; absent means FIFO before any prioritised job. */
  priority?: number;
  /**
   * The same key for the same task, from this producer's `service`, enqueues once while the job is
   * retained: later calls get the same id (and the first call's request id). Another payload under
   * the same key is IdempotencyConflictError. Costs one more Redis round trip.
   */
  idempotencyKey?: string;
  /**
   * The idempotencyKey was generated for this very call (the HTTP API makes one when the client
   * sends none, to hand out after a 503): nothing can have used it before, so the read-back that
   * catches a reused key is skipped. A retry that sends the key again must leave this unset.
   */
  freshKey?: boolean;
  /** Drop new jobs with this id while one is waiting/active (or for ttlMs): BullMQ deduplication. */
  dedup?: { id: string; ttlMs?: number };
  /**
   * W3C trace context to continue (a `traceparent` header you received) instead of the active
   * OpenTelemetry span: the enqueue becomes its child, and the job's attempts children of that.
   * Not W3C: TypeError before Redis is touched.
   */
  traceparent?: string;
  /** With traceparent: the W3C `tracestate` that came with it. */
  tracestate?: string;
  /**
   * The job must start by then (a Date, or epoch milliseconds), or it fails as `expired` without
   * running and is not retried; a retry that would start later expires too. Replaces the task's
   * `expiresAfterMs`. In the past: InvalidOptionError, nothing enqueued.
   */
  expiresAt?: Date | number;
  /** The same, counted from now. Set one of expiresAt and expiresInMs. */
  expiresInMs?: number;
}

export interface EnqueuedJob<N extends TaskName = TaskName> {
  id: string;
  task: N;
  queue: string;
  /** With an idempotencyKey: the request id the job carries (for a repeat, the first call's). */
  requestId?: string;
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
  /** The workflow the job is a step of (GET /api/v1/workflows/{id}). */
  workflow?: { id: string; step: number };
  /** Epoch ms the job had to start by (its enqueue's expiresAt / expiresInMs, or its task's expiresAfterMs). */
  expiresAt?: number;
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
