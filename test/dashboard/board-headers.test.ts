import { describe, expect, it } from 'vitest';
import { useTestHub } from '../helpers/test-hub.ts';
import { useDashboard, type As } from './dashboard-harness.ts';

const hub = useTestHub({ worker: false });
const dash = useDashboard(() => hub.prefix);

describe('what the dashboard tells a visitor about itself', () => {
  it('never names its framework, on any route', async () => {
    const page = await (await dash.get('/', 'admin')).text();
    const script = /src="(static\/js\/[^"]+\.js)"/.exec(page)![1]!;
    const routes: [string, As][] = [
      ['/', 'admin'],
      ['/', 'viewer'],
      ['/queue/order', 'admin'],
      [`/${script}`, 'admin'],
      ['/api/queues', 'admin'],
      ['/api/queues', 'viewer'],
      ['/api/queues/nothing/metrics', 'admin'],
      ['/healthz', undefined],
      ['/metrics', 'viewer'],
      ['/api/v1/tasks', 'viewer'],
      ['/api/v1/tasks', undefined],
      ['/', undefined],
    ];
    for (const [path, as] of routes) {
      const res = await dash.get(path, as);
      await res.arrayBuffer();
      expect(res.headers.get('x-powered-by'), `${path} as ${String(as)}`).toBeNull();
    }
  });

  it('shows the Redis server details to the admin only', async () => {
    const viewer = await dash.get('/api/redis/stats', 'viewer');
    const text = await viewer.text();
    expect(viewer.status).toBe(403);
    expect(text).not.toMatch(/redis_version|"version"|"port"|"os"/);
    const admin = await dash.get('/api/redis/stats', 'admin');
    expect(admin.status).toBe(200);
    expect(((await admin.json()) as { version: string }).version).toMatch(/^\d+\.\d+/);
  });

  it('serves the board self-contained under a Content-Security-Policy, and every other answer loads nothing', async () => {
    for (const as of ['admin', 'viewer'] as const) {
      const res = await dash.get('/queue/order', as);
      const html = await res.text();
      expect(html).not.toMatch(/(href|src)="(https?:)?\/\//);
      const policy = res.headers.get('content-security-policy') ?? '';
      expect(policy).toMatch(/^default-src 'none'; script-src 'self'; /);
      expect(policy).toMatch(/connect-src 'self'/);
      expect(policy).toMatch(/frame-ancestors 'none'/);
    }
    for (const [path, as] of [['/metrics', 'viewer'], ['/api/queues', 'admin'], ['/api/v1/tasks', 'viewer'], ['/healthz', undefined]] as const) {
      const res = await dash.get(path, as);
      await res.arrayBuffer();
      expect(res.headers.get('content-security-policy'), path).toMatch(/^default-src 'none'/);
    }
  });
});
