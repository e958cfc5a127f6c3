/**
 * One bench worker process: the hub's worker (startWorkers with its real dispatch, logging to
 * a file at level info, the production metrics recorder on onOutcome) or a raw BullMQ Worker with the same Worker
 * options. Started by main.ts over IPC; reports drain timing and RSS.
 */
import { openSync } from 'node:fs';
import { UnrecoverableError, Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import { marginFor } from '../src/config/flow-config.ts';
import { createFlowRuntime, type FlowRuntime } from '../src/core/flow/runtime.ts';
import { queuePrefix } from '../src/core/keys.ts';
import { queueSpecOf } from '../src/core/job-options.ts';
import { createLogger } from '../src/core/logger.ts';
import { createServiceClients, type ServiceUrls } from '../src/service-clients/services.ts';
import { serviceNames } from '../services.config.ts';
import { startWorkers } from '../src/worker/start-workers.ts';
import { startMetricsRecorder } from '../src/worker/metrics-recorder.ts';
import { loadEnv } from '../src/config/env.ts';
import { startTracing } from '../src/tracing/start-tracing.ts';
import { BENCH_HTTP_PATH, benchRegistry } from './tasks.ts';

export interface WorkerConfig {
  side: 'hub' | 'raw';
  redisUrl: string;
  prefix: string;
  concurrency: number;
  /** Report `done` after this many completions; 0: run until stopped. */
  expect: number;
  stubUrl: string;
  logFile: string;
  /** The hub side on a Redis Cluster (`host:port,...`) instead of redisUrl. */
  clusterNodes?: string;
  /** The hub side's queues (default: order only); completions are counted over all of them. */
  queues?: string[];
  /** Worker options under test (latency investigation), applied to both sides alike. */
  workerOptions?: { drainDelay?: number };
  /** The hub side traces, exporting to this OTLP/HTTP endpoint (bench/tracing.ts). */
  tracing?: string;
  /**
   * The cancel figure's raw side: a hand-rolled cross-process cancel (a processor that takes
   * BullMQ's signal, and a subscriber on this channel calling worker.cancelJob). The hub side
   * needs nothing: its workers listen for cancels already.
   */
  rawCancelChannel?: string;
  /** Flow rows: the hub worker with a flow runtime, the pricing service limited to this (or unlimited). */
  flow?: { pricingLimit?: { max: number; perMs: number } };
}

export type FromWorker =
  | { type: 'ready' }
  | { type: 'done'; count: number; ms: number; rss: number; cpuUs: number; redisCommands: number };

const config = JSON.parse(process.env.BENCH_WORKER!) as WorkerConfig;

// Every command this process sends, over all its connections (the flow rows report it per job).
let redisCommands = 0;
const sendCommand = Redis.prototype.sendCommand;
Redis.prototype.sendCommand = function (this: Redis, ...args: Parameters<Redis['sendCommand']>) {
  redisCommands++;
  return sendCommand.apply(this, args);
} as Redis['sendCommand'];
const QUEUE = 'order';
const send = (m: FromWorker) => process.send!(m);

const rawProcessor = async (job: Job) => {
  if (job.name !== 'order.benchHttp') return undefined;
  const res = await fetch(`${config.stubUrl}/${BENCH_HTTP_PATH}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ n: (job.data as { n: number }).n }),
  });
  return res.json();
};

/** With a signal, only for the cancel figure: a third parameter makes BullMQ build an AbortController per job. */
const rawCancellableProcessor = async (job: Job, _token?: string, signal?: AbortSignal) => {
  const res = await fetch(`${config.stubUrl}/${BENCH_HTTP_PATH}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ n: (job.data as { n: number }).n }),
    signal,
  }).catch((err: unknown) => {
    if (signal?.aborted) throw new UnrecoverableError(`cancelled: ${String(signal.reason)}`);
    throw err;
  });
  return res.json();
};

const startRaw = async () => {
  const spec = queueSpecOf(QUEUE);
  const connection = new Redis(config.redisUrl, { maxRetriesPerRequest: null });
  const worker = new Worker(QUEUE, config.rawCancelChannel ? rawCancellableProcessor : rawProcessor, {
    connection,
    prefix: queuePrefix(config.prefix, QUEUE),
    concurrency: config.concurrency,
    lockDuration: spec.lockDurationMs ?? 30_000,
    maxStalledCount: spec.maxStalledCount ?? 1,
    stalledInterval: spec.stalledIntervalMs ?? 30_000,
    removeOnComplete: spec.keepCompleted,
    removeOnFail: spec.keepFailed,
    ...config.workerOptions,
  });
  await worker.waitUntilReady();
  const subscriber = config.rawCancelChannel ? connection.duplicate() : undefined;
  if (subscriber) {
    subscriber.on('message', (_channel: string, id: string) => worker.cancelJob(id, 'cancelled'));
    await subscriber.subscribe(config.rawCancelChannel!);
  }
  return { workers: [worker], close: async () => (subscriber?.disconnect(), await worker.close(), connection.disconnect()) };
};

const startHub = async () => {
  const fd = openSync(config.logFile, 'a');
  // BENCH_LOG_LEVEL is for diagnosis only; the figures are taken at the default level.
  const log = createLogger({ name: 'worker', destination: fd, level: (process.env.BENCH_LOG_LEVEL as 'info' | undefined) ?? 'info' });
  // As worker/main.ts starts it; a queue big enough that no span of the drain is dropped.
  if (config.tracing) Object.assign(process.env, { OTEL_EXPORTER_OTLP_ENDPOINT: config.tracing, OTEL_BSP_MAX_QUEUE_SIZE: '65536' });
  const tracing = config.tracing ? startTracing(loadEnv(), 'task-hub-worker', log) : undefined;
  const url = config.stubUrl;
  // The recorder run-worker.ts wires in production: in-memory counts, one pipeline every 5 s.
  const redis = config.clusterNodes ? { nodes: config.clusterNodes.split(',') } : config.redisUrl;
  const metrics = startMetricsRecorder({ redisUrl: redis, prefix: config.prefix, log });
    let flow: FlowRuntime | undefined;
  let flowRedis: Redis | undefined;
  if (config.flow) {
    const limit = config.flow.pricingLimit;
    flowRedis = new Redis(config.redisUrl, { maxRetriesPerRequest: null });
    flow = createFlowRuntime({
      config: { services: limit ? { pricing: { service: 'pricing', rateLimit: { ...limit, marginMs: marginFor(limit.perMs) }, maxWaitMs: 5_000 } } : {}, pools: {} },
      redis: flowRedis,
      hubPrefix: config.prefix,
      httpTimeoutMs: 10_000,
      log,
    });
  }
  const hub = await startWorkers({
    redisUrl: redis,
    prefix: config.prefix,
    queues: config.queues ?? [QUEUE],
    registry: benchRegistry(),
    http: createServiceClients(Object.fromEntries(serviceNames.map((s) => [s, url])) as ServiceUrls, 10_000, flow),
    log,
    onOutcome: (o) => metrics.record(o),
    concurrency: config.concurrency,
    flow,
  });
  return {
    workers: hub.workers,
    close: async () => (await hub.close(5_000), await metrics.stop(), await flow?.stop(), flowRedis?.disconnect(), await tracing?.shutdown(), log.flush()),
  };
};

const { workers, close } = config.side === 'hub' ? await startHub() : await startRaw();
let count = 0;
let first = 0;
// Timing starts at this completion: process start-up, the first fetch and the JIT's warm-up (the
// first few hundred jobs run slower on both sides) are not counted.
const WARM = Math.min(1_000, Math.floor(config.expect / 10));
let cpu = process.cpuUsage();
let commandsAtFirst = 0;
const onCompleted = () => {
  const now = performance.now();
  if (++count === WARM + 1) (first = now), (cpu = process.cpuUsage()), (commandsAtFirst = redisCommands);
  if (count !== config.expect) return;
  const used = process.cpuUsage(cpu);
  send({ type: 'done', count: count - WARM - 1, ms: now - first, rss: process.memoryUsage().rss, cpuUs: used.user + used.system, redisCommands: redisCommands - commandsAtFirst });
};
for (const worker of workers) {
  // Cancelled jobs fail on purpose (the cancel figure).
  worker.on('failed', (_job, err) => !err.message.startsWith('cancelled: ') && console.error(`bench ${config.side}: job failed: ${err.message}`));
  worker.on('completed', onCompleted);
}
// The bench went away (killed): do not linger.
process.on('disconnect', () => process.exit(1));
process.on('message', async (m: { type: string }) => {
  if (m.type !== 'stop') return;
  await close();
  process.exit(0);
});
send({ type: 'ready' });
