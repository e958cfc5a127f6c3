import type { Queue } from 'bullmq';
import { isCluster, mastersOf, nodeName, type RedisClient } from '../core/redis.ts';

/** The work's result, or an error after `ms`: a hung Redis never answers. */
export const within = <T>(ms: number, work: Promise<T>): Promise<T> => {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    work,
    new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms))),
  ]).finally(() => clearTimeout(timer));
};

/** Connected workers per queue (BullMQ names worker connections per queue; one CLIENT LIST each). */
export const workersPerQueue = async (queues: readonly Queue[]): Promise<Record<string, number>> => {
  const counts = await Promise.all(queues.map((q) => q.getWorkersCount()));
  return Object.fromEntries(queues.map((q, i) => [q.name, counts[i]!]));
};

/** One Redis answers PING; a cluster is ready (its slot map known) and every master answers, each holding some queues. */
const pingAll = async (redis: RedisClient): Promise<{ masters?: number }> => {
  if (!isCluster(redis)) return (await redis.ping(), {});
  if (redis.status !== 'ready') throw new Error(`cluster ${redis.status}`);
  const masters = mastersOf(redis);
  await Promise.all(masters.map((node) => node.ping().catch((err: Error) => Promise.reject(new Error(`master ${nodeName(node)}: ${err.message}`)))));
  return { masters: masters.length };
};

/** /readyz: ready when Redis answers; worker counts tell whether anything consumes each queue. */
export const readiness = async (redis: RedisClient, queues: readonly Queue[], timeoutMs = 2_000) => {
  const started = performance.now();
  let cluster: { masters?: number };
  try {
    cluster = await within(timeoutMs, pingAll(redis));
  } catch (err) {
    return { ready: false, redis: { ok: false, error: (err as Error).message } };
  }
  const latencyMs = Math.round((performance.now() - started) * 10) / 10;
  const workers = await within(timeoutMs, workersPerQueue(queues)).catch(() => undefined);
  return { ready: true, redis: { ok: true, latencyMs, ...cluster }, workers: workers ?? 'unavailable (CLIENT LIST refused?)' };
};
