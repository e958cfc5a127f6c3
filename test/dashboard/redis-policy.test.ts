import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadEnv } from '../../src/config/env.ts';
import { createLogger } from '../../src/core/logger.ts';
import { runDashboard, type DashboardHandle } from '../../src/dashboard/run-dashboard.ts';
import { freePort, startRedisServer, type RedisServer } from '../../src/launcher/redis-server.ts';
import { Lines } from '../helpers/lines.ts';

/** The dashboard enqueues (API, board): in production it refuses an evicting Redis as the worker does. */
const servers: RedisServer[] = [];
let dir: string;
let lines: Lines;
let dashboard: DashboardHandle | undefined;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'hub-dash-evict-'));
});
afterEach(async () => {
  await dashboard?.stop();
  dashboard = undefined;
});
afterAll(async () => {
  await Promise.all(servers.map((s) => s.stop()));
  rmSync(dir, { recursive: true, force: true });
});

const evicting = async (port?: number) => {
  const server = await startRedisServer({ dir: join(dir, String(servers.length)), appendonly: false, maxmemoryPolicy: 'allkeys-lru', ...(port ? { port } : {}) });
  servers.push(server);
  return server;
};
const start = (redisUrl: string, nodeEnv: 'production' | 'development') => {
  lines = new Lines();
  const log = createLogger({ name: 'dashboard', destination: new Writable({ write: (c, _e, done) => (lines.push(c.toString()), done()) }) });
  const env = loadEnv({ NODE_ENV: nodeEnv, REDIS_URL: redisUrl, DASHBOARD_PORT: '0', DASHBOARD_HOST: '127.0.0.1', DASHBOARD_PASSWORD: 'a-long-enough-password-1' });
  return runDashboard(env, log);
};

describe('the dashboard on an evicting Redis', () => {
  it('refuses to start in production, naming the policy', async () => {
    const server = await evicting();
    await expect(start(server.url, 'production')).rejects.toThrow(
      'Redis maxmemory-policy is "allkeys-lru": Redis may evict queued jobs. Set maxmemory-policy noeviction.',
    );
    expect(lines.matching('dashboard listening')).toEqual([]);
  });

  it('in production, waits for a Redis that is not up yet and checks it once it answers', async () => {
    const port = await freePort();
    const starting = start(`redis://127.0.0.1:${port}`, 'production');
    const outcome = starting.then(
      () => 'started',
      (err: Error) => err.message,
    );
    await lines.waitFor('waiting for Redis');
    await evicting(port);
    expect(await outcome).toMatch(/maxmemory-policy is "allkeys-lru"/);
  });

  it('warns elsewhere and starts', async () => {
    const server = await evicting();
    dashboard = await start(server.url, 'development');
    expect(lines.matching('"level":"warn"').join('\n')).toContain('allkeys-lru');
    expect((await fetch(`http://127.0.0.1:${dashboard.port}/healthz`)).status).toBe(200);
  });
});
