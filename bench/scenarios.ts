import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { QueueEvents } from 'bullmq';
import { Redis } from 'ioredis';
import { order, type AnyContract } from '../src/contracts/index.ts';
import { jobOptionsFor, withJobId } from '../src/core/job-options.ts';
import { createProducer } from '../src/producer/index.ts';
import { newJobId } from '../src/producer/job-ids.ts';
import { spawnWorker } from './spawn-worker.ts';
import { bytesPerCompletedJob, deletePrefix, fill, jobsFor, queueOn, QUEUE } from './redis-util.ts';
import type { WorkerConfig } from './worker-process.ts';

export type Side = 'hub' | 'raw';

export interface Env {
  redisUrl: string;
  redis: Redis;
  stubUrl: string;
  dir: string;
  /** A fresh hub prefix per run; its keys are deleted after the run. */
  nextPrefix(side: Side): string;
}

/** Runs `work` with `inFlight` concurrent loops until `n` calls are done; calls per second. */
export const pool = async (n: number, inFlight: number, work: (i: number) => Promise<unknown>): Promise<number> => {
  let next = 0;
  const started = performance.now();
  await Promise.all(Array.from({ length: inFlight }, async () => {
    while (next < n) await work(next++);
  }));
  return (n / (performance.now() - started)) * 1_000;
};

const invoice = order.generateInvoice;
/** Untimed calls first on both sides: connection, scripts and a warm JIT. */
const WARMUP = 2_000;
// Built the same way the producer builds its options (withJobId: a spread plus a property is slow
// on Node 20), so neither side pays for the harness.
const rawOptions = jobOptionsFor(invoice);

/**
 * What the enqueue rows add: a plain task (no business key: what every capability must leave
 * free), or order.generateInvoice, which the hub also indexes under its orderId (two more commands).
 */
export type Enqueued = 'plain' | 'keyed';
const ENQUEUED = {
  plain: { contract: order.summarizeResults, payload: (): object => ({ label: randomUUID(), results: [] }), options: jobOptionsFor(order.summarizeResults) },
  keyed: { contract: order.generateInvoice, payload: (): object => ({ orderId: randomUUID() }), options: jobOptionsFor(order.generateInvoice) },
};

/** (1) producer.enqueue vs Queue.add, same task, payload and job options, 100 in flight. */
export const enqueueRate = async (env: Env, side: Side, n: number, kind: Enqueued): Promise<number> => {
  const prefix = env.nextPrefix(side);
  const { contract, payload, options } = ENQUEUED[kind];
  const payloads = Array.from({ length: n }, payload);
  try {
    if (side === 'hub') {
      const producer = createProducer({ redisUrl: env.redisUrl, prefix, service: 'bench' });
      const enqueue = (i: number) => producer.enqueue(contract.name as 'order.generateInvoice', payloads[i] as never);
      await pool(WARMUP, 100, enqueue); // connect, load scripts and warm the JIT outside the timing
      const rate = await pool(n, 100, enqueue);
      await producer.close();
      return rate;
    }
    const connection = new Redis(env.redisUrl, { maxRetriesPerRequest: 1, enableOfflineQueue: false });
    const queue = queueOn(connection, prefix);
    const add = (i: number) => queue.add(contract.name, payloads[i]!, withJobId(options, newJobId(QUEUE)));
    await pool(WARMUP, 100, add);
    const rate = await pool(n, 100, add);
    await queue.close();
    connection.disconnect();
    return rate;
  } finally {
    await deletePrefix(env.redis, prefix);
  }
};

/** (2) producer.enqueueMany vs Queue.addBulk, batches of `batch`, one batch at a time. */
export const bulkRate = async (env: Env, side: Side, n: number, batch: number, kind: Enqueued): Promise<number> => {
  const prefix = env.nextPrefix(side);
  const { contract, payload, options } = ENQUEUED[kind];
  const payloads = Array.from({ length: n }, payload);
  const batches = Array.from({ length: n / batch }, (_, b) => payloads.slice(b * batch, (b + 1) * batch));
  try {
    if (side === 'hub') {
      const producer = createProducer({ redisUrl: env.redisUrl, prefix, service: 'bench' });
      const enqueueMany = (b: number) => producer.enqueueMany(batches[b]!.map((p) => ({ task: contract.name as 'order.generateInvoice', payload: p as never })));
      await enqueueMany(0);
      const rate = await pool(batches.length, 1, enqueueMany);
      await producer.close();
      return rate * batch;
    }
    const connection = new Redis(env.redisUrl, { maxRetriesPerRequest: 1, enableOfflineQueue: false });
    const queue = queueOn(connection, prefix);
    const addBulk = (b: number) =>
      queue.addBulk(batches[b]!.map((data) => ({ name: contract.name, data, opts: withJobId(options, newJobId(QUEUE)) })));
    await addBulk(0);
    const rate = await pool(batches.length, 1, addBulk);
    await queue.close();
    connection.disconnect();
    return rate * batch;
  } finally {
    await deletePrefix(env.redis, prefix);
  }
};

const workerConfig = (env: Env, side: Side, prefix: string, concurrency: number, expect: number, tracing?: string): WorkerConfig => ({
  side,
  redisUrl: env.redisUrl,
  prefix,
  concurrency,
  expect,
  stubUrl: env.stubUrl,
  logFile: join(env.dir, `worker-${side}.log`),
  ...(tracing ? { tracing } : {}),
});

export interface DrainResult {
  rate: number;
  rss: number;
  bytesPerJob: number;
  /** Worker CPU time per job (user + system): steadier than wall time on a shared machine. */
  cpuUsPerJob: number;
}

/**
 * (3, 4, 6) A queue filled with `n` jobs, drained by a worker process; jobs/s from first to last
 * completion. `tracing`: an OTLP endpoint the hub worker exports its spans to, for jobs that
 * each carry a trace context (bench/tracing.ts).
 */
export const drain = async (env: Env, side: Side, contract: AnyContract, n: number, concurrency: number, tracing?: string): Promise<DrainResult> => {
  const prefix = env.nextPrefix(side);
  const queue = queueOn(env.redis, prefix);
  try {
    await fill(queue, jobsFor(side, contract, n, Boolean(tracing)));
    const worker = await spawnWorker(workerConfig(env, side, prefix, concurrency, n, tracing));
    const done = await worker.done;
    await worker.stop();
    return {
      rate: (done.count / done.ms) * 1_000,
      rss: done.rss,
      bytesPerJob: await bytesPerCompletedJob(env.redis, queue),
      cpuUsPerJob: done.cpuUs / done.count,
    };
  } finally {
    await queue.close();
    await deletePrefix(env.redis, prefix);
  }
};

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;

export interface Latency {
  p50: number;
  p95: number;
  p99: number;
}

/** One side's enqueue-and-wait on its own idle worker process. */
const latencySide = async (env: Env, side: Side, concurrency: number) => {
  const prefix = env.nextPrefix(side);
  const worker = await spawnWorker(workerConfig(env, side, prefix, concurrency, 0));
  const connection = new Redis(env.redisUrl, { maxRetriesPerRequest: null });
  let once: () => Promise<unknown>;
  let close: () => Promise<unknown>;
  if (side === 'hub') {
    const producer = createProducer({ redisUrl: env.redisUrl, prefix, service: 'bench' });
    once = async () => producer.waitFor(await producer.enqueue('order.generateInvoice', { orderId: randomUUID() }), { timeoutMs: 5_000 });
    close = () => producer.close();
  } else {
    const queue = queueOn(connection, prefix);
    const blocking = connection.duplicate();
    const events = new QueueEvents(QUEUE, { connection: blocking, prefix: queue.opts.prefix });
    await events.waitUntilReady();
    once = async () => {
      const job = await queue.add(invoice.name, { orderId: randomUUID() }, withJobId(rawOptions, newJobId(QUEUE)));
      return job.waitUntilFinished(events, 5_000);
    };
    close = async () => (await events.close(), await queue.close(), blocking.disconnect());
  }
  return {
    once,
    async close() {
      await close();
      await worker.stop();
      connection.disconnect();
      await deletePrefix(env.redis, prefix);
    },
  };
};

/**
 * (5) Sequential jobs, each side on its own idle worker process: enqueue until the caller sees
 * the result. The sides take turns job by job, so a busy neighbour on the machine hits both alike.
 */
export const latency = async (env: Env, n: number, concurrency: number, warmup = 30): Promise<Record<Side, Latency>> => {
  const sides = { hub: await latencySide(env, 'hub', concurrency), raw: await latencySide(env, 'raw', concurrency) };
  const times: Record<Side, number[]> = { hub: [], raw: [] };
  try {
    for (let i = 0; i < warmup + n; i++) {
      for (const side of (i % 2 ? ['raw', 'hub'] : ['hub', 'raw']) as Side[]) {
        const started = performance.now();
        await sides[side].once();
        if (i >= warmup) times[side].push(performance.now() - started);
      }
    }
  } finally {
    await Promise.all([sides.hub.close(), sides.raw.close()]);
  }
  const summary = (xs: number[]): Latency => {
    xs.sort((a, b) => a - b);
    return { p50: percentile(xs, 50), p95: percentile(xs, 95), p99: percentile(xs, 99) };
  };
  return { hub: summary(times.hub), raw: summary(times.raw) };
};
