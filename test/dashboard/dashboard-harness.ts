import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach } from 'vitest';
import { createLogger } from '../../src/core/logger.ts';
import { createRedis } from '../../src/core/redis.ts';
import type { ApiClient } from '../../src/dashboard/api-tokens.ts';
import type { Account } from '../../src/dashboard/auth.ts';
import { createDashboardApp, type DashboardApp, type DashboardOptions } from '../../src/dashboard/create-app.ts';
import { testRedisUrl } from '../helpers/test-hub.ts';

export const token = (): string => randomBytes(24).toString('hex');

export const ACCOUNTS: Account[] = [
  { user: 'admin', password: 'admin-pass-1', role: 'admin' },
  { user: 'viewer', password: 'viewer-pass-1', role: 'viewer' },
];
export const CLIENTS: ApiClient[] = [
  { name: 'checkout', token: token(), scopes: ['order', 'cart.recalculateTotals'] },
  { name: 'auth-svc', token: token(), scopes: ['auth'] },
  { name: 'ops', token: token(), scopes: ['*'] },
  { name: 'support', token: token(), scopes: ['order:cancel', 'cart.sendAbandonedCartReminder:cancel'] },
  { name: 'root', token: token(), scopes: ['admin'] },
  { name: 'orders', token: token(), scopes: ['order', 'event:order.created'] },
  // Control scopes (README, "Who may do what").
  { name: 'order-replayer', token: token(), scopes: ['order:replay'] },
  { name: 'replayer', token: token(), scopes: ['replay'] },
  { name: 'scheduler', token: token(), scopes: ['schedules'] },
  { name: 'queue-ops', token: token(), scopes: ['queues'] },
];
export const tokenOf = (name: string): string => CLIENTS.find((c) => c.name === name)!.token;

export type As = 'admin' | 'viewer' | { bearer: string } | { basic: [string, string] } | undefined;

const authHeader = (as: As): Record<string, string> => {
  if (!as) return {};
  if (typeof as === 'object' && 'bearer' in as) return { authorization: `Bearer ${as.bearer}` };
  const [user, password] = typeof as === 'object' ? as.basic : [as, ACCOUNTS.find((a) => a.user === as)!.password];
  return { authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` };
};

/** The real dashboard app on an ephemeral port, over the test hub's prefix; closed after each test. */
export const useDashboard = (prefixOf: () => string, opts: Partial<Pick<DashboardOptions, 'maxBodyBytes' | 'log' | 'throttle' | 'trustProxy' | 'processMetrics' | 'schedule' | 'beatLockMs' | 'flow'>> = {}) => {
  const state = { server: undefined as Server | undefined, dashboard: undefined as DashboardApp | undefined, url: '', close: async () => {} };

  beforeEach(async () => {
    const connection = createRedis(testRedisUrl(), 'producer');
    await once(connection, 'ready');
    const dashboard = createDashboardApp({
      connection,
      prefix: prefixOf(),
      accounts: ACCOUNTS,
      clients: CLIENTS,
      log: createLogger({ name: 'dashboard', level: 'silent' }),
      processMetrics: false,
      ...opts,
    });
    const server = dashboard.app.listen(0, '127.0.0.1');
    await once(server, 'listening');
    state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    state.close = async () => {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      await dashboard.close();
      connection.disconnect();
    };
  });
  afterEach(async () => state.close());

  const request = (method: string, path: string, { as, json, body, headers = {} }: { as?: As; json?: unknown; body?: string; headers?: Record<string, string> } = {}) =>
    fetch(`${state.url}${path}`, {
      method,
      headers: { ...authHeader(as), ...(json !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
      body: json !== undefined ? JSON.stringify(json) : body,
    });

  return {
    get url() {
      return state.url;
    },
    request,
    get: (path: string, as?: As) => request('GET', path, { as }),
    post: (path: string, json: unknown, as?: As, headers?: Record<string, string>) => request('POST', path, { as, json, headers }),
  };
};

/** `name{a="b"} 1` lines of a Prometheus exposition -> samples. */
export const parseExposition = (text: string) =>
  text
    .split('\n')
    .filter((l) => l && !l.startsWith('#'))
    .map((line) => {
      const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
      if (!m) throw new Error(`not an exposition line: ${line}`);
      const labels = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((l) => [l[1]!, l[2]!]));
      return { name: m[1]!, labels, value: Number(m[3]) };
    });

export const sample = (samples: ReturnType<typeof parseExposition>, name: string, labels: Record<string, string>) =>
  samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;

/** The sum over every sample of `name` matching `labels` (e.g. over a label left out). */
export const sum = (samples: ReturnType<typeof parseExposition>, name: string, labels: Record<string, string>) =>
  samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v)).reduce((total, s) => total + s.value, 0);
