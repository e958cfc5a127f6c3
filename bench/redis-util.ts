import { randomBytes } from 'node:crypto';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { AnyContract } from '../src/contracts/index.ts';
import { jobOptionsFor, withJobId } from '../src/core/job-options.ts';
import { newJobId } from '../src/producer/job-ids.ts';
import { withMeta } from '../src/core/job-meta.ts';
import { queuePrefix } from '../src/core/keys.ts';

export { deletePrefix } from '../src/core/keys.ts';

export const QUEUE = 'order';

export const queueOn = (connection: Redis, prefix: string): Queue => new Queue(QUEUE, { connection, prefix: queuePrefix(prefix, QUEUE) });

/**
 * `n` jobs of a task, shaped as each side enqueues them: the hub's as the producer writes them
 * (payload plus `$hub` metadata), raw ones as a plain payload; both with the same options and
 * `<queue>.<uuid>` ids. `traced`: each hub job carries the traceparent of a (sampled) enqueue
 * span, as a traced producer writes it.
 */
export const jobsFor = (side: 'hub' | 'raw', contract: AnyContract, n: number, traced = false) => {
  const opts = jobOptionsFor(contract);
  const meta = () => (traced ? { service: 'bench', trace: `00-${randomBytes(16).toString('hex')}-${randomBytes(8).toString('hex')}-01` } : { service: 'bench' });
  return Array.from({ length: n }, (_, i) => ({
    name: contract.name,
    data: side === 'hub' ? withMeta({ n: i }, meta()) : { n: i },
    opts: withJobId(opts, newJobId(QUEUE)),
  }));
};

/** Adds jobs in chunks (not timed: the drain figures start with a full queue). */
export const fill = async (queue: Queue, jobs: ReturnType<typeof jobsFor>): Promise<void> => {
  for (let i = 0; i < jobs.length; i += 1_000) await queue.addBulk(jobs.slice(i, i + 1_000));
};

/** Bytes Redis holds per retained completed job: the job hash (sampled) plus its share of the completed set. */
export const bytesPerCompletedJob = async (redis: Redis, queue: Queue): Promise<number> => {
  const key = queue.keys.completed!;
  const count = await redis.zcard(key);
  if (!count) return 0;
  const ids = await redis.zrange(key, '0', '199');
  const sizes = await Promise.all(ids.map((id) => redis.memory('USAGE', `${queue.keys['']}${id}`, 'SAMPLES', '0')));
  const hash = sizes.reduce<number>((a, b) => a + Number(b ?? 0), 0) / ids.length;
  const set = Number((await redis.memory('USAGE', key, 'SAMPLES', '0')) ?? 0) / count;
  return Math.round(hash + set);
};
