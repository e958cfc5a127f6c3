import { Queue } from 'bullmq';
import express, { type Express } from 'express';
import { queues as queueSpecs } from '../../queues.config.ts';
import { ConfigError } from '../core/errors.ts';
import type { FlowConfig } from '../core/flow/limits.ts';
import { queuePrefix } from '../core/keys.ts';
import type { Logger } from '../core/logger.ts';
import type { RedisClient } from '../core/redis.ts';
import { createControl } from '../control/control.ts';
import { createProducer, type Producer } from '../producer/index.ts';
import { checkHubEvents } from '../producer/publish.ts';
import { answerWithin } from './answer-within.ts';
import type { ApiClient } from './api-tokens.ts';
import { createApiRouter } from './api/router.ts';
import { basicAuth, sameOriginWrites, type Account } from './auth.ts';
import { createAuthGuard, type ThrottleOptions } from './auth-throttle.ts';
import { createBoard } from './board.ts';
import { controlPage } from './control-page/page.ts';
import { readiness, within } from './health.ts';
import { createMetricsRegistry } from './metrics.ts';

export interface DashboardOptions {
  /** Shared by queues, producers and metrics; fail-fast (producer role). Not closed by close(). */
  connection: RedisClient;
  prefix: string;
  accounts: readonly Account[];
  clients: readonly ApiClient[];
  log: Logger;
  maxBodyBytes?: number;
  processMetrics?: boolean;
  /** Limits on wrong passwords and tokens (defaults: 10 per address a minute). */
  throttle?: ThrottleOptions;
  /** How long /metrics and the board's data routes wait for Redis before answering 503. */
  redisTimeoutMs?: number;
  /** Express's `trust proxy` (DASHBOARD_TRUST_PROXY): which proxies' X-Forwarded-For names the client. */
  trustProxy?: string;
  /** The schedule the control page and API show (BEAT_SCHEDULE's module; schedule.ts when unset), or its entries (tests). */
  schedulePath?: string;
  schedule?: readonly unknown[];
  /** BEAT_LOCK_MS: pausing or resuming a schedule entry waits this long for a reconciling beat. */
  beatLockMs?: number;
  /** Limits and pools in force (src/config/flow-config.ts): /metrics families and GET /api/v1/limits. */
  flow?: FlowConfig;
}

/** Hop count or the proxies' addresses/subnets (`loopback`, `10.0.0.0/8`): never "any", or anyone could pick their address. */
const trustProxies = (app: Express, value: string) => {
  try {
    app.set('trust proxy', /^\d+$/.test(value) ? Number(value) : value);
  } catch (err) {
    throw new ConfigError(`DASHBOARD_TRUST_PROXY: ${(err as Error).message} (expected a hop count, or addresses/subnets such as loopback,10.0.0.0/8)`);
  }
};

export interface DashboardApp {
  app: Express;
  close(): Promise<void>;
}

/**
 * The dashboard as an express app, without listening: /healthz open; /api/v1 on bearer tokens;
 * everything else (board, /readyz, /metrics) behind basic auth.
 */
export const createDashboardApp = (opts: DashboardOptions): DashboardApp => {
  const { connection, prefix, log, redisTimeoutMs = 5_000 } = opts;
  checkHubEvents(); // before any queue opens: the API publishes
  const app = express();
  app.disable('x-powered-by');
  if (opts.trustProxy) trustProxies(app, opts.trustProxy);

  const queues = new Map(Object.keys(queueSpecs).map((name) => [name, new Queue(name, { connection, prefix: queuePrefix(prefix, name) })]));
  for (const q of queues.values()) q.on('error', (err) => log.warn({ queue: q.name, err: err.message }, 'queue error'));
  const producers = new Map<string, Producer>();
  const producerFor = (service: string) => {
    let p = producers.get(service);
    if (!p) producers.set(service, (p = createProducer({ connection, prefix, service })));
    return p;
  };
  const control = createControl({ connection, prefix, queues, producerFor, schedule: opts.schedule, schedulePath: opts.schedulePath, beatLockMs: opts.beatLockMs });
  const registry = createMetricsRegistry({ redis: connection, prefix, queues: [...queues.values()], processMetrics: opts.processMetrics, flow: opts.flow });

  const guard = createAuthGuard(log, opts.throttle);
  app.use((_req, res, next) => {
    // JSON and text load nothing; the board sets its own policy (board-page.ts).
    res.set({
      'X-Content-Type-Options': 'nosniff',
      'X-Frame-Options': 'DENY',
      'Referrer-Policy': 'no-referrer',
      'Content-Security-Policy': "default-src 'none'; frame-ancestors 'none'",
    });
    next();
  });

  app.get('/healthz', (_req, res) => void res.json({ ok: true }));
  const api = createApiRouter({
    clients: opts.clients,
    accounts: opts.accounts,
    producerFor,
    queues,
    log,
    guard,
    redisReady: () => connection.status === 'ready',
    maxBodyBytes: opts.maxBodyBytes,
    control,
    flow: { redis: connection, prefix, config: opts.flow ?? { services: {}, pools: {} } },
  });
  app.use('/api/v1', api);

  app.use(basicAuth(opts.accounts, guard));
  app.get('/readyz', async (_req, res) => {
    const r = await readiness(connection, [...queues.values()]);
    res.status(r.ready ? 200 : 503).json(r);
  });
  app.get('/metrics', async (_req, res) => {
    try {
      const body = await within(redisTimeoutMs, registry.metrics());
      res.set('Content-Type', registry.contentType).send(body);
    } catch (err) {
      log.warn({ err: (err as Error).message }, 'metrics scrape failed');
      res.status(503).type('text/plain').send(`# scrape failed: ${(err as Error).message}\n`);
    }
  });
  app.use('/api', answerWithin(redisTimeoutMs));
  app.use(sameOriginWrites);
  app.use(controlPage({ control, redisTimeoutMs, log }));
  app.use(createBoard([...queues.values()], producerFor('dashboard')));

  return {
    app,
    async close() {
      await control.close();
      await Promise.all([...producers.values()].map((p) => p.close()));
      await Promise.all([...queues.values()].map((q) => q.close()));
    },
  };
};
