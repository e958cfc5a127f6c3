import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';

const within = <T>(ms: number, work: Promise<T>): Promise<T> => {
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

/** /readyz: ready when Redis answers; worker counts tell whether anything consumes each queue. */
export const readiness = async (redis: Redis, queues: readonly Queue[], timeoutMs = 2_000) => {
  const started = performance.now();
  try {
    await within(timeoutMs, redis.ping());
  } catch (err) {
    return { ready: false, redis: { ok: false, error: (err as Error).message } };
  }
  const latencyMs = Math.round((performance.now() - started) * 10) / 10;
  const workers = await within(timeoutMs, workersPerQueue(queues)).catch(() => undefined);
  return { ready: true, redis: { ok: true, latencyMs }, workers: workers ?? 'unavailable (CLIENT LIST refused?)' };
};
