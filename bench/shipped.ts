/**
 * The path that ships (issue 12): the real worker entry point as its own process (the tsx
 * entry `npm run worker` runs, or the compiled build the Docker image runs), shipped
 * queues.config.ts and task order.generateInvoice, default log level, logs to a pipe, against
 * a keep-alive stub order service; beside it a plain BullMQ Worker + got process doing the same
 * call (raw-got-worker.ts). Both get their jobs in the shape their side enqueues them.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { createInterface } from 'node:readline';
import { Job, QueueEvents } from 'bullmq';
import { Redis } from 'ioredis';
import { order } from '../src/contracts/index.ts';
import { jobOptionsFor, withJobId } from '../src/core/job-options.ts';
import { createProducer } from '../src/producer/index.ts';
import { newJobId } from '../src/producer/job-ids.ts';
import { deletePrefix, queueOn, QUEUE } from './redis-util.ts';
import type { Env, Latency, Side } from './scenarios.ts';

/** Which worker process: the hub's compiled entry (npm run worker, the image), the same under tsx, or plain BullMQ + got. */
export type Runner = 'hub-tsx' | 'hub-dist' | 'raw';

const commandOf = (runner: Runner): string[] => {
  const flags = (process.env.BENCH_NODE_FLAGS ?? '').split(' ').filter(Boolean);
  if (runner === 'hub-dist') return [...flags, 'dist/src/worker/main.js'];
  return ['--import', 'tsx', ...flags, runner === 'raw' ? 'bench/raw-got-worker.ts' : 'src/worker/main.ts'];
};

export interface ShippedWorker {
  child: ChildProcess;
  /** ms from spawn to "worker ready" (hub) / "ready" (raw). */
  startMs: number;
  rssMb(): number;
  cpuMs(): number;
  stop(): Promise<void>;
}

const procStat = (pid: number) => readFileSync(`/proc/${pid}/stat`, 'utf8').slice(readFileSync(`/proc/${pid}/stat`, 'utf8').lastIndexOf(')') + 2).split(' ');

/** Starts one worker process and resolves once it takes jobs. Its output is read (a pipe, as in a container) and dropped. */
export const startShippedWorker = async (env: Env, runner: Runner, prefix: string): Promise<ShippedWorker> => {
  const started = performance.now();
  const child = spawn(process.execPath, commandOf(runner), {
    env: {
      ...process.env,
      NODE_ENV: 'production',
      REDIS_URL: env.redisUrl,
      HUB_PREFIX: prefix,
      HUB_QUEUES: QUEUE,
      ORDER_SERVICE_URL: env.stubUrl,
      LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'info',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const tail: string[] = [];
  for (const stream of [child.stdout!, child.stderr!]) {
    createInterface({ input: stream }).on('line', (line) => {
      if (tail.push(line) > 20) tail.shift();
    });
  }
  // Ready = its Worker connection is registered on the queue (whatever the log level).
  const queue = queueOn(env.redis, prefix);
  try {
    while (!(await queue.getWorkersCount())) {
      if (child.exitCode !== null) throw new Error(`${runner} worker exited (${child.exitCode}) before ready:\n${tail.join('\n')}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  } finally {
    await queue.close();
  }
  const startMs = performance.now() - started;
  const ticks = 100; // USER_HZ on Linux
  return {
    child,
    startMs,
    rssMb: () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))![1]) / 1024,
    cpuMs: () => {
      const f = procStat(child.pid!);
      return ((Number(f[11]) + Number(f[12])) / ticks) * 1_000;
    },
    async stop() {
      child.kill('SIGTERM');
      await exited;
    },
  };
};

const invoice = order.generateInvoice;

/** `n` invoice jobs as each side enqueues them: the producer's enqueueMany, or Queue.addBulk with the same options. */
const enqueueInvoices = async (env: Env, runner: Runner, prefix: string, n: number) => {
  const payloads = Array.from({ length: n }, () => ({ orderId: randomUUID() }));
  if (runner !== 'raw') {
    const producer = createProducer({ redisUrl: env.redisUrl, prefix, service: 'bench' });
    for (let i = 0; i < n; i += 1_000) {
      await producer.enqueueMany(payloads.slice(i, i + 1_000).map((payload) => ({ task: 'order.generateInvoice' as const, payload })));
    }
    await producer.close();
    return;
  }
  const queue = queueOn(env.redis, prefix);
  const opts = jobOptionsFor(invoice);
  for (let i = 0; i < n; i += 1_000) {
    await queue.addBulk(payloads.slice(i, i + 1_000).map((data) => ({ name: invoice.name, data, opts: withJobId(opts, newJobId(QUEUE)) })));
  }
  await queue.close();
};

export interface ShippedDrain {
  rate: number;
  cpuUsPerJob: number;
  startMs: number;
  rssIdleMb: number;
  rssAfterMb: number;
  /** Redis commands the worker sent per job over the drain (INFO commandstats; the bench's own polling taken out), and the busiest ones. */
  commandsPerJob: number;
  commands: Record<string, number>;
}

/** Calls per command since the last CONFIG RESETSTAT. */
const commandStats = async (redis: Redis): Promise<Map<string, number>> => {
  const stats = new Map<string, number>();
  for (const m of (await redis.info('commandstats')).matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) stats.set(m[1]!, Number(m[2]));
  return stats;
};

/**
 * `n` jobs enqueued first, then the worker process starts; jobs/s from the `skip`-th completion
 * to the last, from the jobs' own finishedOn (so the bench's polling does not touch the timing).
 */
export const shippedDrain = async (env: Env, runner: Runner, n: number): Promise<ShippedDrain> => {
  const prefix = env.nextPrefix(runner === 'raw' ? 'raw' : 'hub');
  const queue = queueOn(env.redis, prefix);
  try {
    await enqueueInvoices(env, runner, prefix, n);
    await env.redis.config('RESETSTAT');
    const worker = await startShippedWorker(env, runner, prefix);
    const rssIdleMb = worker.rssMb();
    const cpuAtStart = worker.cpuMs();
    let polls = 0;
    while ((await env.redis.zcard(queue.keys.completed!)) + (await env.redis.zcard(queue.keys.failed!)) < n) {
      polls += 2;
      await new Promise((r) => setTimeout(r, 100));
    }
    const cpuMs = worker.cpuMs() - cpuAtStart;
    const stats = await commandStats(env.redis);
    stats.set('zcard', (stats.get('zcard') ?? 0) - polls - 2);
    stats.delete('config|resetstat');
    stats.delete('info');
    const rssAfterMb = worker.rssMb();
    await worker.stop();
    const failed = await env.redis.zcard(queue.keys.failed!);
    if (failed) throw new Error(`${runner}: ${failed} of ${n} jobs failed`);
    const ids = await env.redis.zrange(queue.keys.completed!, '0', '-1');
    const pipeline = env.redis.pipeline();
    for (const id of ids) pipeline.hget(`${queue.keys['']}${id}`, 'finishedOn');
    const finished = ((await pipeline.exec()) ?? []).map(([, v]) => Number(v)).sort((a, b) => a - b);
    const skip = Math.floor(n / 10);
    const timed = finished.length - skip - 1;
    return {
      rate: (timed / (finished.at(-1)! - finished[skip]!)) * 1_000,
      cpuUsPerJob: (cpuMs * 1_000) / n,
      startMs: worker.startMs,
      rssIdleMb,
      rssAfterMb,
      commandsPerJob: [...stats.values()].reduce((a, b) => a + b, 0) / n,
      commands: Object.fromEntries([...stats].filter(([, c]) => c / n >= 0.05).sort((a, b) => b[1] - a[1]).map(([k, c]) => [k, Math.round((c / n) * 100) / 100])),
    };
  } finally {
    await queue.close();
    await deletePrefix(env.redis, prefix);
  }
};

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;

/**
 * Sequential enqueue -> completed through the shipped worker: `producer.waitFor` against
 * `job.waitUntilFinished`, the sides taking turns job by job on their own idle worker process.
 */
export const shippedLatency = async (env: Env, runner: Exclude<Runner, 'raw'>, n: number, warmup = 40): Promise<Record<Side, Latency>> => {
  const hubPrefix = env.nextPrefix('hub');
  const rawPrefix = env.nextPrefix('raw');
  const hubWorker = await startShippedWorker(env, runner, hubPrefix);
  const rawWorker = await startShippedWorker(env, 'raw', rawPrefix);
  const producer = createProducer({ redisUrl: env.redisUrl, prefix: hubPrefix, service: 'bench' });
  const connection = new Redis(env.redisUrl, { maxRetriesPerRequest: null });
  const queue = queueOn(connection, rawPrefix);
  const blocking = connection.duplicate();
  const events = new QueueEvents(QUEUE, { connection: blocking, prefix: queue.opts.prefix });
  await events.waitUntilReady();
  const opts = jobOptionsFor(invoice);
  const once: Record<Side, () => Promise<unknown>> = {
    hub: async () => producer.waitFor(await producer.enqueue('order.generateInvoice', { orderId: randomUUID() }), { timeoutMs: 5_000 }),
    raw: async () => {
      const job: Job = await queue.add(invoice.name, { orderId: randomUUID() }, withJobId(opts, newJobId(QUEUE)));
      return job.waitUntilFinished(events, 5_000);
    },
  };
  const times: Record<Side, number[]> = { hub: [], raw: [] };
  try {
    for (let i = 0; i < warmup + n; i++) {
      for (const side of (i % 2 ? ['raw', 'hub'] : ['hub', 'raw']) as Side[]) {
        const started = performance.now();
        await once[side]();
        if (i >= warmup) times[side].push(performance.now() - started);
      }
    }
  } finally {
    await producer.close();
    await events.close();
    await queue.close();
    blocking.disconnect();
    connection.disconnect();
    await Promise.all([hubWorker.stop(), rawWorker.stop()]);
    await Promise.all([deletePrefix(env.redis, hubPrefix), deletePrefix(env.redis, rawPrefix)]);
  }
  const summary = (xs: number[]): Latency => {
    xs.sort((a, b) => a - b);
    return { p50: percentile(xs, 50), p95: percentile(xs, 95), p99: percentile(xs, 99) };
  };
  return { hub: summary(times.hub), raw: summary(times.raw) };
};
