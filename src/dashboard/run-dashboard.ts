import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import type { Env } from '../config/env.ts';
import { flowConfigFrom } from '../config/flow-config.ts';
import { ConfigError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import { checkEvictionPolicy } from '../core/redis-policy.ts';
import { createRedis, describeTarget, type RedisClient } from '../core/redis.ts';
import { redisTargetOf } from '../config/redis-target.ts';
import { parseApiTokens } from './api-tokens.ts';
import { accountsFrom } from './auth.ts';
import { answerClientErrors } from './client-errors.ts';
import { createDashboardApp, type DashboardApp } from './create-app.ts';

const DEV_WAIT_MS = 2_000;

/**
 * The dashboard enqueues, so it holds Redis to the worker's rule: in production it waits for
 * Redis (as the worker does) and refuses an evicting one. Elsewhere it starts without Redis
 * after a short wait, and /readyz says so.
 */
const checkRedisAtStart = async (connection: RedisClient, log: Logger, production: boolean): Promise<void> => {
  if (connection.status !== 'ready') {
    if (production) log.info('waiting for Redis, to check its maxmemory-policy before listening');
    let onReady = () => {};
    // Not events.once: it rejects on the connection's 'error' events, which mean "still trying" here.
    const ready = new Promise<boolean>((resolve) => connection.once('ready', (onReady = () => resolve(true))));
    const gaveUp = production ? undefined : new Promise<boolean>((resolve) => setTimeout(resolve, DEV_WAIT_MS, false).unref());
    if (!(await Promise.race(gaveUp ? [ready, gaveUp] : [ready]))) {
      connection.off('ready', onReady);
      log.warn('Redis did not answer at start: maxmemory-policy not checked (it must be noeviction)');
      return;
    }
  }
  await checkEvictionPolicy(connection, log, production);
};

export interface DashboardHandle {
  port: number;
  stop(): Promise<void>;
}

/** The dashboard role: Bull Board, health, metrics and the HTTP API on DASHBOARD_PORT. Used by `npm run dashboard` and `npm start`. */
export const runDashboard = async (env: Env, log: Logger): Promise<DashboardHandle> => {
  // Config first: a bad token list or a missing production password stops before anything opens.
  const accounts = accountsFrom(env, (m) => log.warn(m));
  const clients = parseApiTokens(env.HUB_API_TOKENS);
  const flow = flowConfigFrom(env);
  const redisTarget = redisTargetOf(env);
  const connection = createRedis(redisTarget, 'producer', { onError: (m) => log.error(m) });
  let dashboard: DashboardApp;
  try {
    await checkRedisAtStart(connection, log, env.NODE_ENV === 'production');
    dashboard = createDashboardApp({
      connection,
      prefix: env.HUB_PREFIX,
      accounts,
      clients,
      log,
      trustProxy: env.DASHBOARD_TRUST_PROXY,
      schedulePath: env.BEAT_SCHEDULE,
      beatLockMs: env.BEAT_LOCK_MS,
      flow,
    });
  } catch (err) {
    connection.disconnect();
    throw err;
  }
  const { app, close } = dashboard;
  const host = env.DASHBOARD_HOST ?? (env.NODE_ENV === 'production' ? '0.0.0.0' : '127.0.0.1');
  const server = app.listen(env.DASHBOARD_PORT, host);
  answerClientErrors(server);
  try {
    await Promise.race([once(server, 'listening'), once(server, 'error').then(([err]) => Promise.reject(err as Error))]);
  } catch (err) {
    await close();
    connection.disconnect();
    const inUse = (err as NodeJS.ErrnoException).code === 'EADDRINUSE';
    throw inUse ? new ConfigError(`port ${env.DASHBOARD_PORT} is in use: stop what holds it or set DASHBOARD_PORT`) : err;
  }
  const port = (server.address() as AddressInfo).port;
  log.info(
    { host, port, redis: describeTarget(redisTarget), prefix: env.HUB_PREFIX, readOnlyAccount: accounts.length > 1, apiClients: clients.map((c) => c.name) },
    'dashboard listening',
  );
  return {
    port,
    async stop() {
      log.info('dashboard stopping');
      server.closeIdleConnections();
      const closed = new Promise((resolve) => server.close(resolve));
      // Long polls from open browser tabs would hold close() forever.
      setTimeout(() => server.closeAllConnections(), 2_000).unref();
      await closed;
      await close();
      connection.disconnect();
      log.info('dashboard stopped');
    },
  };
};
