import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/core/logger.ts';
import { createRedis } from '../../src/core/redis.ts';
import { createDashboardApp, type DashboardApp } from '../../src/dashboard/create-app.ts';
import { freePort } from '../../src/launcher/redis-server.ts';
import { ACCOUNTS, CLIENTS, tokenOf } from './dashboard-harness.ts';

/** The dashboard on a Redis that does not answer: it stays up, says so, and never hangs a caller. */
let dashboard: DashboardApp;
let url = '';
let stop = async () => {};

beforeAll(async () => {
  const connection = createRedis(`redis://127.0.0.1:${await freePort()}`, 'producer', { retryStrategy: () => 1_000 });
  dashboard = createDashboardApp({ connection, prefix: 'down', accounts: ACCOUNTS, clients: CLIENTS, log: createLogger({ name: 'dashboard', level: 'silent' }), processMetrics: false });
  const server = dashboard.app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  stop = async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    await dashboard.close();
    connection.disconnect();
  };
});
afterAll(() => stop());

const basic = `Basic ${Buffer.from(`${ACCOUNTS[0]!.user}:${ACCOUNTS[0]!.password}`).toString('base64')}`;

describe('dashboard without Redis', () => {
  it('is alive but not ready, and answers 503 instead of hanging', async () => {
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    const ready = await fetch(`${url}/readyz`, { headers: { authorization: basic } });
    expect(ready.status).toBe(503);
    expect(((await ready.json()) as { redis: { ok: boolean } }).redis.ok).toBe(false);
    expect((await fetch(`${url}/metrics`, { headers: { authorization: basic } })).status).toBe(503);
    const enqueue = await fetch(`${url}/api/v1/tasks/cart.purgeExpiredCarts`, {
      method: 'POST',
      headers: { authorization: `Bearer ${tokenOf('ops')}`, 'content-type': 'application/json' },
      body: '{}',
    });
    expect(enqueue.status).toBe(503);
    expect(enqueue.headers.get('retry-after')).toBe('5');
  });
});
