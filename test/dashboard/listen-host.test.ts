import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { loadEnv } from '../../src/config/env.ts';
import { createLogger } from '../../src/core/logger.ts';
import { runDashboard, type DashboardHandle } from '../../src/dashboard/run-dashboard.ts';
import { newPrefix, testRedisUrl } from '../helpers/test-hub.ts';

const lines: string[] = [];
const log = createLogger({ name: 'dashboard', destination: new Writable({ write: (c, _e, done) => (lines.push(c.toString()), done()) }) });
let dashboard: DashboardHandle | undefined;
afterEach(async () => {
  await dashboard?.stop();
  dashboard = undefined;
  lines.length = 0;
});

/** Where `runDashboard` bound, from its own "dashboard listening" line. */
const boundHost = () => (lines.map((l) => JSON.parse(l) as { msg: string; host?: string }).find((l) => l.msg === 'dashboard listening'))?.host;
const start = (extra: Record<string, string>) =>
  runDashboard(loadEnv({ REDIS_URL: testRedisUrl(), HUB_PREFIX: newPrefix(), DASHBOARD_PORT: '0', ...extra }), log);

describe('the interface the dashboard listens on', () => {
  it('is loopback outside production, so the dev login (admin/admin) is not on the LAN', async () => {
    dashboard = await start({ NODE_ENV: 'development' });
    expect(boundHost()).toBe('127.0.0.1');
    const res = await fetch(`http://127.0.0.1:${dashboard.port}/healthz`);
    expect(res.status).toBe(200);
  });

  it('is every interface in production (a container publishes its port), and DASHBOARD_HOST overrides both', async () => {
    dashboard = await start({ NODE_ENV: 'production', DASHBOARD_PASSWORD: 'a-long-enough-password-1' });
    expect(boundHost()).toBe('0.0.0.0');
    await dashboard.stop();
    lines.length = 0;
    dashboard = await start({ NODE_ENV: 'production', DASHBOARD_PASSWORD: 'a-long-enough-password-1', DASHBOARD_HOST: '127.0.0.1' });
    expect(boundHost()).toBe('127.0.0.1');
  });
});
