/**
 * Cancel-to-abort latency of a running job (issue 14): from the cancel call in this process to
 * the service seeing the worker process drop the job's HTTP call (the handler's signal fired).
 * Hub: producer.cancel (mark + publish, in one script) against the hub's worker process. Raw:
 * what one would hand-roll on plain BullMQ (a PUBLISH of the id, a subscriber in the worker
 * calling worker.cancelJob, a processor passing BullMQ's signal to fetch).
 */
import { EventEmitter, once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { createProducer } from '../src/producer/index.ts';
import { jobsFor, queueOn } from './redis-util.ts';
import { deletePrefix } from './redis-util.ts';
import type { Env, Latency, Side } from './scenarios.ts';
import { spawnWorker } from './spawn-worker.ts';
import { bench } from './tasks.ts';

/** A service that never answers: emits `arrived:<n>` per call and `abandoned:<n>` when the caller hangs up. */
const startHoldingService = async () => {
  const events = new EventEmitter();
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const { n } = JSON.parse(body) as { n: number };
      res.on('close', () => events.emit(`abandoned:${n}`, performance.now()));
      events.emit(`arrived:${n}`);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    arrived: (n: number) => once(events, `arrived:${n}`),
    abandoned: (n: number) => once(events, `abandoned:${n}`).then(([at]) => at as number),
    close: () => (server.closeAllConnections(), new Promise<void>((r) => server.close(() => r()))),
  };
};

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;

/** `n` running jobs per side cancelled one at a time, the sides taking turns job by job. */
export const cancelLatency = async (env: Env, n: number, warmup = 10): Promise<Record<Side, Latency>> => {
  const service = await startHoldingService();
  const channel = 'bench-cancel';
  const sides = {} as Record<Side, { once(i: number): Promise<number>; close(): Promise<void> }>;
  for (const side of ['hub', 'raw'] as Side[]) {
    const prefix = env.nextPrefix(side);
    const worker = await spawnWorker({
      side,
      redisUrl: env.redisUrl,
      prefix,
      concurrency: 20,
      expect: 0,
      stubUrl: service.url,
      logFile: join(env.dir, `worker-cancel-${side}.log`),
      ...(side === 'raw' ? { rawCancelChannel: channel } : {}),
    });
    const queue = queueOn(env.redis, prefix);
    const producer = createProducer({ redisUrl: env.redisUrl, prefix, service: 'bench' });
    sides[side] = {
      async once(i) {
        // A distinct n per call and side: the service tells the calls apart by it.
        const tag = side === 'hub' ? 2 * i : 2 * i + 1;
        const [job] = jobsFor(side, bench.benchHttp, 1);
        job!.data = side === 'hub' ? { ...(job!.data as object), n: tag } : { n: tag };
        const arrived = service.arrived(tag);
        const abandoned = service.abandoned(tag);
        await queue.add(job!.name, job!.data, { ...job!.opts, attempts: 1 });
        await arrived;
        const started = performance.now();
        if (side === 'hub') await producer.cancel({ id: job!.opts.jobId!, queue: 'order' }, { reason: 'bench' });
        else await env.redis.publish(channel, job!.opts.jobId!);
        return (await abandoned) - started;
      },
      async close() {
        await producer.close();
        await queue.close();
        await worker.stop();
        await deletePrefix(env.redis, prefix);
      },
    };
  }
  const times: Record<Side, number[]> = { hub: [], raw: [] };
  try {
    for (let i = 0; i < warmup + n; i++) {
      for (const side of (i % 2 ? ['raw', 'hub'] : ['hub', 'raw']) as Side[]) {
        const ms = await sides[side].once(i);
        if (i >= warmup) times[side].push(ms);
      }
    }
  } finally {
    await Promise.all([sides.hub?.close(), sides.raw?.close()]);
    await service.close();
  }
  const summary = (xs: number[]): Latency => {
    xs.sort((a, b) => a - b);
    return { p50: percentile(xs, 50), p95: percentile(xs, 95), p99: percentile(xs, 99) };
  };
  return { hub: summary(times.hub), raw: summary(times.raw) };
};
