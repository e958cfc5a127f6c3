/**
 * One bench worker process: the hub's worker (startWorkers with its real dispatch, logging to
 * a file at level info, the production metrics recorder on onOutcome) or a raw BullMQ Worker with the same Worker
 * options. Started by main.ts over IPC; reports drain timing and RSS.
 */
import { openSync } from 'node:fs';
import { Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import { queuePrefix } from '../src/core/keys.ts';
import { queueSpecOf } from '../src/core/job-options.ts';
import { createLogger } from '../src/core/logger.ts';
import { createServiceClients } from '../src/http/services.ts';
import { startWorkers } from '../src/worker/start-workers.ts';
import { startMetricsRecorder } from '../src/worker/metrics-recorder.ts';
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
  /** Worker options under test (latency investigation), applied to both sides alike. */
  workerOptions?: { drainDelay?: number };
}

export type FromWorker = { type: 'ready' } | { type: 'done'; count: number; ms: number; rss: number; cpuUs: number };

const config = JSON.parse(process.env.BENCH_WORKER!) as WorkerConfig;
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

const startRaw = async () => {
  const spec = queueSpecOf(QUEUE);
  const connection = new Redis(config.redisUrl, { maxRetriesPerRequest: null });
  const worker = new Worker(QUEUE, rawProcessor, {
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
  return { worker, close: async () => (await worker.close(), connection.disconnect()) };
};

const startHub = async () => {
  const fd = openSync(config.logFile, 'a');
  // BENCH_LOG_LEVEL is for diagnosis only; the figures are taken at the default level.
  const log = createLogger({ name: 'worker', destination: fd, level: (process.env.BENCH_LOG_LEVEL as 'info' | undefined) ?? 'info' });
  const url = config.stubUrl;
  // The recorder run-worker.ts wires in production: in-memory counts, one pipeline every 5 s.
  const metrics = startMetricsRecorder({ redisUrl: config.redisUrl, prefix: config.prefix, log });
  const hub = await startWorkers({
    redisUrl: config.redisUrl,
    prefix: config.prefix,
    queues: [QUEUE],
    registry: benchRegistry(),
    http: createServiceClients({ AUTH_SERVICE_URL: url, CART_SERVICE_URL: url, ORDER_SERVICE_URL: url, PRODUCT_SERVICE_URL: url, HTTP_TIMEOUT_MS: 10_000 }),
    log,
    onOutcome: (o) => metrics.record(o),
    concurrency: config.concurrency,
  });
  return { worker: hub.workers[0]!, close: async () => (await hub.close(5_000), await metrics.stop(), log.flush()) };
};

const { worker, close } = config.side === 'hub' ? await startHub() : await startRaw();
let count = 0;
let first = 0;
// Timing starts at this completion: process start-up, the first fetch and the JIT's warm-up (the
// first few hundred jobs run slower on both sides) are not counted.
const WARM = Math.min(1_000, Math.floor(config.expect / 10));
let cpu = process.cpuUsage();
worker.on('failed', (job, err) => console.error(`bench ${config.side}: job failed: ${err.message}`));
worker.on('completed', () => {
  const now = performance.now();
  if (++count === WARM + 1) (first = now), (cpu = process.cpuUsage());
  if (count !== config.expect) return;
  const used = process.cpuUsage(cpu);
  send({ type: 'done', count: count - WARM - 1, ms: now - first, rss: process.memoryUsage().rss, cpuUs: used.user + used.system });
});
// The bench went away (killed): do not linger.
process.on('disconnect', () => process.exit(1));
process.on('message', async (m: { type: string }) => {
  if (m.type !== 'stop') return;
  await close();
  process.exit(0);
});
send({ type: 'ready' });
