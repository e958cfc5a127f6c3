import type { JobsOptions, Queue } from 'bullmq';
import { EnqueueError } from '../core/errors.ts';
import type { RedisClient } from '../core/redis.ts';
import type { ProducerOptions } from './types.ts';

export interface Replication {
  replicas: number;
  timeoutMs: number;
}

/** The producer's `durability`, checked: undefined for the default (the primary's acknowledgement). */
export const replicationOf = ({ durability, replicas = 1, replicaTimeoutMs = 1_000, timeoutMs = 3_000 }: ProducerOptions): Replication | undefined => {
  if (durability === undefined || durability === 'primary') return undefined;
  if (durability !== 'replicated') throw new Error(`createProducer: durability must be "primary" or "replicated", not ${JSON.stringify(durability)}`);
  if (!Number.isInteger(replicas) || replicas < 1) throw new Error('createProducer: replicas must be an integer >= 1');
  if (!Number.isInteger(replicaTimeoutMs) || replicaTimeoutMs < 1 || replicaTimeoutMs >= timeoutMs) {
    throw new Error(`createProducer: replicaTimeoutMs must be an integer from 1 to under timeoutMs (${timeoutMs})`);
  }
  return { replicas, timeoutMs: replicaTimeoutMs };
};

/**
 * WAIT for replicas to hold what this connection wrote to the job's node. WAIT counts the
 * writes of the connection it runs on, and on a cluster it must reach the node that holds the
 * key: a pipeline is routed by its keyed command (EXISTS of the job), on the very connection
 * the add went through.
 */
export const confirmReplicated = async (connection: RedisClient, jobKey: string, jobId: string, { replicas, timeoutMs }: Replication): Promise<void> => {
  const replies = (await connection.pipeline().exists(jobKey).call('WAIT', replicas, timeoutMs).exec()) ?? [];
  const [err, acked] = replies[1] ?? [new Error('WAIT got no reply')];
  if (err) throw err;
  if (Number(acked) >= replicas) return;
  const error = new EnqueueError(
    `job ${jobId} was added, but ${acked} of ${replicas} replica(s) confirmed it within ${timeoutMs} ms: ` +
      'a failover now could lose it; retry with the same idempotency key',
  );
  error.jobId = jobId;
  throw error;
};

/** One add, then its confirmation: the producer reports success once replicas hold the job. */
export const addReplicated = async (connection: RedisClient, queue: Queue, job: { name: string; data: unknown; opts: JobsOptions }, replication: Replication) => {
  const added = await queue.add(job.name, job.data, job.opts);
  await confirmReplicated(connection, queue.toKey(added.id!), added.id!, replication);
  return added;
};
