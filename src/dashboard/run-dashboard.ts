import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import type { Env } from '../config/env.ts';
import { ConfigError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import { redactUrl } from '../core/redact.ts';
import { createRedis } from '../core/redis.ts';
import { parseApiTokens } from './api-tokens.ts';
import { accountsFrom } from './auth.ts';
import { createDashboardApp } from './create-app.ts';

export interface DashboardHandle {
  port: number;
  stop(): Promise<void>;
}

/** The dashboard role: Bull Board, health, metrics and the HTTP API on DASHBOARD_PORT. Used by `npm run dashboard` and `npm start`. */
export const runDashboard = async (env: Env, log: Logger): Promise<DashboardHandle> => {
  // Config first: a bad token list or a missing production password stops before anything opens.
  const accounts = accountsFrom(env, (m) => log.warn(m));
  const clients = parseApiTokens(env.HUB_API_TOKENS);
  const connection = createRedis(env.REDIS_URL, 'producer', { onError: (m) => log.error(m) });
  const { app, close } = createDashboardApp({ connection, prefix: env.HUB_PREFIX, accounts, clients, log });
  const host = env.DASHBOARD_HOST ?? (env.NODE_ENV === 'production' ? '0.0.0.0' : '127.0.0.1');
  const server = app.listen(env.DASHBOARD_PORT, host);
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
    { host, port, redis: redactUrl(env.REDIS_URL), prefix: env.HUB_PREFIX, readOnlyAccount: accounts.length > 1, apiClients: clients.map((c) => c.name) },
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
