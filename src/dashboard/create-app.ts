import { Queue } from 'bullmq';
import express, { type Express } from 'express';
import type { Redis } from 'ioredis';
import { queues as queueSpecs } from '../../queues.config.ts';
import { queuePrefix } from '../core/keys.ts';
import type { Logger } from '../core/logger.ts';
import { createProducer, type Producer } from '../producer/index.ts';
import type { ApiClient } from './api-tokens.ts';
import { createApiRouter } from './api/router.ts';
import { basicAuth, sameOriginWrites, type Account } from './auth.ts';
import { createBoard } from './board.ts';
import { readiness } from './health.ts';
import { createMetricsRegistry } from './metrics.ts';

export interface DashboardOptions {
  /** Shared by queues, producers and metrics; fail-fast (producer role). Not closed by close(). */
  connection: Redis;
  prefix: string;
  accounts: readonly Account[];
  clients: readonly ApiClient[];
  log: Logger;
  maxBodyBytes?: number;
  processMetrics?: boolean;
}

export interface DashboardApp {
  app: Express;
  close(): Promise<void>;
}

/**
 * The dashboard as an express app, without listening: /healthz open; /api/v1 on bearer tokens;
 * everything else (board, /readyz, /metrics) behind basic auth.
 */
export const createDashboardApp = (opts: DashboardOptions): DashboardApp => {
  const { connection, prefix, log } = opts;
  const queues = new Map(Object.keys(queueSpecs).map((name) => [name, new Queue(name, { connection, prefix: queuePrefix(prefix, name) })]));
  for (const q of queues.values()) q.on('error', (err) => log.warn({ queue: q.name, err: err.message }, 'queue error'));
  const producers = new Map<string, Producer>();
  const producerFor = (service: string) => {
    let p = producers.get(service);
    if (!p) producers.set(service, (p = createProducer({ connection, prefix, service })));
    return p;
  };
  const registry = createMetricsRegistry({ redis: connection, prefix, queues: [...queues.values()], processMetrics: opts.processMetrics });

  const app = express();
  app.disable('x-powered-by');
  app.use((_req, res, next) => {
    res.set({ 'X-Content-Type-Options': 'nosniff', 'X-Frame-Options': 'DENY', 'Referrer-Policy': 'no-referrer' });
    next();
  });

  app.get('/healthz', (_req, res) => void res.json({ ok: true }));
  const api = createApiRouter({
    clients: opts.clients,
    accounts: opts.accounts,
    producerFor,
    queues,
    log,
    redisReady: () => connection.status === 'ready',
    maxBodyBytes: opts.maxBodyBytes,
  });
  app.use('/api/v1', api);

  app.use(basicAuth(opts.accounts));
  app.get('/readyz', async (_req, res) => {
    const r = await readiness(connection, [...queues.values()]);
    res.status(r.ready ? 200 : 503).json(r);
  });
  app.get('/metrics', async (_req, res) => {
    try {
      const body = await registry.metrics();
      res.set('Content-Type', registry.contentType).send(body);
    } catch (err) {
      log.warn({ err: (err as Error).message }, 'metrics scrape failed');
      res.status(503).type('text/plain').send(`# scrape failed: ${(err as Error).message}\n`);
    }
  });
  app.use(sameOriginWrites);
  app.use(createBoard([...queues.values()], producerFor('dashboard')));

  return {
    app,
    async close() {
      await Promise.all([...producers.values()].map((p) => p.close()));
      await Promise.all([...queues.values()].map((q) => q.close()));
    },
  };
};
