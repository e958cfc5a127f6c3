/**
 * The cost of cluster mode: the hub's enqueue and drain on a 3-master Redis Cluster against one
 * Redis, all on this machine (BENCH_CLUSTER_NODES: an existing cluster instead). The one Redis
 * and the cluster's nodes run alike (no AOF, noeviction), started here. And the cost of the
 * producer's durability 'replicated' against the default, on the one Redis with a replica.
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import type { AnyContract, PayloadOf, TaskName } from '../src/contracts/index.ts';
import { jobOptionsFor, withJobId } from '../src/core/job-options.ts';
import { withMeta } from '../src/core/job-meta.ts';
import { deletePrefix, queuePrefix } from '../src/core/keys.ts';
import { createRedis, mastersOf, whenReady, type ClusterTarget, type RedisClient } from '../src/core/redis.ts';
import { startRedisCluster, type RedisCluster } from '../src/launcher/redis-cluster.ts';
import { startRedisServer, type RedisServer } from '../src/launcher/redis-server.ts';
import { createProducer } from '../src/producer/index.ts';
import { newJobId } from '../src/producer/job-ids.ts';
import { spawnWorker } from './spawn-worker.ts';
import { bench, benchSpread } from './tasks.ts';

export type Where = 'cluster' | 'single';

export interface ClusterBench {
  cluster: ClusterTarget;
  clusterNodes: string;
  singleUrl: string;
  /** A replica of the one Redis, for the durability row. */
  replicated: boolean;
  stop(): Promise<void>;
}

export const startClusterBench = async (dir: string): Promise<ClusterBench> => {
  const given = process.env.BENCH_CLUSTER_NODES;
  const cluster: RedisCluster | undefined = given ? undefined : await startRedisCluster({ dir: join(dir, 'cluster'), masters: 3 });
  const clusterNodes = given ?? cluster!.nodeList;
  let single: RedisServer | undefined;
  let replica: RedisServer | undefined;
  try {
    single = await startRedisServer({ dir: join(dir, 'single'), appendonly: false, extraArgs: ['--repl-diskless-sync-delay', '0'] });
    replica = await startRedisServer({ dir: join(dir, 'replica'), appendonly: false, extraArgs: ['--replicaof', '127.0.0.1', String(single.port)] });
    const probe = new Redis(replica.url);
    while (!(await probe.info('replication')).includes('master_link_status:up')) await new Promise((r) => setTimeout(r, 50));
    probe.disconnect();
  } catch (err) {
    await Promise.all([cluster?.stop(), single?.stop(), replica?.stop()]);
    throw err;
  }
  return {
    cluster: { nodes: clusterNodes.split(',') },
    clusterNodes,
    singleUrl: single.url,
    replicated: true,
    async stop() {
      await Promise.all([cluster?.stop(), single?.stop(), replica?.stop()]);
    },
  };
};

const connect = async (b: ClusterBench, where: Where): Promise<RedisClient> => {
  const redis = createRedis(where === 'cluster' ? b.cluster : b.singleUrl, 'worker');
  await whenReady(redis);
  return redis;
};

/** CPU time (user + system) Redis has used so far, summed over the masters: what a job costs the data tier. */
const redisCpuUs = async (redis: RedisClient): Promise<number> => {
  let total = 0;
  for (const node of mastersOf(redis)) {
    const info = await node.info('cpu');
    total += (Number(/used_cpu_user:([\d.]+)/.exec(info)?.[1]) + Number(/used_cpu_sys:([\d.]+)/.exec(info)?.[1])) * 1e6;
  }
  return total;
};

/** Calls per second of `work`, `inFlight` at a time, after 2,000 untimed calls (connections, scripts, JIT). */
const pool = async (n: number, inFlight: number, work: () => Promise<unknown>): Promise<number> => {
  let next = 0;
  const loop = async (until: number) => {
    while (next < until) (next++, await work());
  };
  await Promise.all(Array.from({ length: inFlight }, () => loop(2_000)));
  next = 0;
  const started = performance.now();
  await Promise.all(Array.from({ length: inFlight }, () => loop(n)));
  return (n / (performance.now() - started)) * 1_000;
};

/** One task per domain queue, so the cluster's enqueues go to every shard. */
const spread: { [N in TaskName]?: () => PayloadOf<N> } = {
  'order.generateInvoice': () => ({ orderId: randomUUID() }),
  'cart.recalculateTotals': () => ({ cartId: randomUUID() }),
  'auth.revokeUserSessions': () => ({ userId: randomUUID(), reason: 'user-request' }),
  'product.reindex': () => ({}),
};
const spreadTasks = Object.keys(spread) as TaskName[];

/** producer.enqueue, 100 in flight, round robin over the four domain queues; and Redis CPU per enqueue. */
export const spreadEnqueueRate = async (b: ClusterBench, where: Where, prefix: string, n: number) => {
  const producer = createProducer({ ...(where === 'cluster' ? { cluster: b.cluster } : { redisUrl: b.singleUrl }), prefix, service: 'bench' });
  const redis = await connect(b, where);
  const cpuBefore = await redisCpuUs(redis);
  let i = 0;
  const rate = await pool(n, 100, () => {
    const task = spreadTasks[i++ % spreadTasks.length]!;
    return producer.enqueue(task, spread[task]!() as never);
  });
  const redisUsPerJob = ((await redisCpuUs(redis)) - cpuBefore) / (n + 2_000);
  await producer.close();
  redis.disconnect();
  return { rate, redisUsPerJob };
};

/** producer.enqueue on the one Redis with a replica, 100 in flight: durability 'replicated' against the default. */
export const durabilityEnqueueRate = async (b: ClusterBench, durability: 'primary' | 'replicated', prefix: string, n: number): Promise<number> => {
  const producer = createProducer({ redisUrl: b.singleUrl, prefix, service: 'bench', durability });
  const rate = await pool(n, 100, () => producer.enqueue('order.generateInvoice', { orderId: randomUUID() }));
  await producer.close();
  return rate;
};

const noops: AnyContract[] = [bench.benchNoop, ...Object.values(benchSpread)];

/** `n` no-op jobs over four queues (order, auth, product, product-images), drained by one hub worker process at concurrency 50 per queue. */
export const spreadDrain = async (b: ClusterBench, where: Where, prefix: string, n: number, logFile: string) => {
  const redis = await connect(b, where);
  try {
    for (const contract of noops) {
      const queue = new Queue(contract.queue, { connection: redis, prefix: queuePrefix(prefix, contract.queue) });
      const opts = jobOptionsFor(contract);
      for (let i = 0; i < n / noops.length; i += 1_000) {
        const size = Math.min(1_000, n / noops.length - i);
        await queue.addBulk(Array.from({ length: size }, (_, k) => ({ name: contract.name, data: withMeta({ n: i + k }, { service: 'bench' }), opts: withJobId(opts, newJobId(contract.queue)) })));
      }
      await queue.close();
    }
    const cpuBefore = await redisCpuUs(redis);
    const worker = await spawnWorker({
      side: 'hub',
      redisUrl: b.singleUrl,
      ...(where === 'cluster' ? { clusterNodes: b.clusterNodes } : {}),
      queues: noops.map((c) => c.queue),
      prefix,
      concurrency: 50,
      expect: n,
      stubUrl: 'http://127.0.0.1:1',
      logFile,
    });
    const done = await worker.done;
    const redisUsPerJob = ((await redisCpuUs(redis)) - cpuBefore) / n;
    await worker.stop();
    return { rate: (done.count / done.ms) * 1_000, cpuUsPerJob: done.cpuUs / done.count, redisUsPerJob };
  } finally {
    await deletePrefix(redis, prefix);
    redis.disconnect();
  }
};

/** Deletes a run's keys wherever they went. */
export const cleanUp = async (b: ClusterBench, where: Where, prefix: string) => {
  const redis = await connect(b, where);
  await deletePrefix(redis, prefix);
  redis.disconnect();
};
