import { describe, expect, it } from 'vitest';
import { appRoutes } from '@bull-board/api/dist/routes.js';
import { loadEnv } from '../../src/config/env.ts';
import { parseApiTokens } from '../../src/dashboard/api-tokens.ts';
import { accountsFrom, roleOf } from '../../src/dashboard/auth.ts';
import { useTestHub } from '../helpers/test-hub.ts';
import { ACCOUNTS, useDashboard } from './dashboard-harness.ts';

const hub = useTestHub({ worker: false });
const dash = useDashboard(() => hub.prefix);

const PERSON_PAGES = ['/', '/queue/order', '/api/queues', '/readyz', '/metrics', '/api/v1/tasks', '/api/v1/nothing-here'];

describe('dashboard authentication', () => {
  it('serves only /healthz without credentials, and asks browsers to log in', async () => {
    expect((await dash.get('/healthz')).status).toBe(200);
    for (const path of PERSON_PAGES) {
      const res = await dash.get(path);
      expect(res.status, path).toBe(401);
      expect(res.headers.get('www-authenticate'), path).toMatch(/^(Basic|Bearer) realm="task-hub"/);
    }
  });

  it('refuses a wrong password, a wrong user and a malformed header', async () => {
    const wrong = [
      { basic: ['admin', 'nope'] as [string, string] },
      { basic: ['root', 'admin-pass-1'] as [string, string] },
      { basic: ['admin', 'admin-pass-1x'] as [string, string] },
      { basic: ['viewer', 'admin-pass-1'] as [string, string] },
    ];
    for (const as of wrong) expect((await dash.get('/', as)).status).toBe(401);
    const garbage = await dash.request('GET', '/', { headers: { authorization: 'Basic !!!' } });
    expect(garbage.status).toBe(401);
  });

  it('lets both accounts read the board, readiness and metrics', async () => {
    for (const as of ['admin', 'viewer'] as const) {
      for (const path of PERSON_PAGES) expect((await dash.get(path, as)).status, `${as} ${path}`).toBe(path.includes('nothing') ? 404 : 200);
    }
    const board = await (await dash.get('/', 'viewer')).text();
    expect(board).toContain('"label":"read-only"');
  });

  it('refuses every board write of the read-only account, server-side', async () => {
    const job = await hub.producer.enqueue('order.generateInvoice', { orderId: crypto.randomUUID() });
    const params: Record<string, string> = { queueName: 'order', jobId: job.id, queueStatus: 'waiting', schedulerId: 'none' };
    const writes = appRoutes.api.flatMap((r) =>
      (Array.isArray(r.method) ? r.method : [r.method]).filter((m) => m !== 'get').flatMap((m) => (Array.isArray(r.route) ? r.route : [r.route]).map((route) => [m, route] as const)),
    );
    expect(writes.length).toBeGreaterThan(15);
    for (const [method, route] of writes) {
      const path = route.replace(/:(\w+)/g, (_, p: string) => encodeURIComponent(params[p] ?? 'x'));
      const res = await dash.request(method.toUpperCase(), path, { as: 'viewer', json: { name: 'order.generateInvoice', data: {}, jobData: {} } });
      expect(res.status, `${method} ${path}`).toBe(405);
    }
    // Bull Board's own read-only mode holds as well, should a request reach it.
    const queue = hub.rawQueue('order');
    expect(await queue.getJobState(job.id)).toBe('waiting');
    expect(await queue.isPaused()).toBe(false);
    expect(await queue.count()).toBe(1);
  });

  it('lets the admin write, but not from another site', async () => {
    const pause = await dash.request('PUT', '/api/queues/order/pause', { as: 'admin' });
    expect(pause.status).toBe(200);
    expect(await hub.rawQueue('order').isPaused()).toBe(true);
    const forged = await dash.request('PUT', '/api/queues/order/resume', { as: 'admin', headers: { origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' } });
    expect(forged.status).toBe(403);
    expect(await hub.rawQueue('order').isPaused()).toBe(true);
  });
});

describe('dashboard configuration', () => {
  it('refuses to start in production without a password, and falls back to admin/admin elsewhere', () => {
    expect(() => accountsFrom(loadEnv({ NODE_ENV: 'production' }))).toThrow(/DASHBOARD_PASSWORD is required/);
    const warnings: string[] = [];
    const dev = accountsFrom(loadEnv({ NODE_ENV: 'development' }), (m) => warnings.push(m));
    expect(dev).toEqual([{ user: 'admin', password: 'admin', role: 'admin' }]);
    expect(warnings[0]).toMatch(/development login/);
    const prod = accountsFrom(
      loadEnv({ NODE_ENV: 'production', DASHBOARD_USER: 'ops', DASHBOARD_PASSWORD: 's3cret-pass', DASHBOARD_READONLY_USER: 'ro', DASHBOARD_READONLY_PASSWORD: 'ro-pass' }),
    );
    expect(prod.map((a) => [a.user, a.role])).toEqual([['ops', 'admin'], ['ro', 'viewer']]);
    expect(() => accountsFrom(loadEnv({ DASHBOARD_READONLY_USER: 'ro' }))).toThrow(/both/);
  });

  it('compares credentials per account', () => {
    const basic = (u: string, p: string) => `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`;
    expect(roleOf(ACCOUNTS, basic('admin', 'admin-pass-1'))).toBe('admin');
    expect(roleOf(ACCOUNTS, basic('viewer', 'viewer-pass-1'))).toBe('viewer');
    expect(roleOf(ACCOUNTS, basic('viewer', 'viewer-pass-1:'))).toBeUndefined();
    expect(roleOf(ACCOUNTS, undefined)).toBeUndefined();
  });

  it('parses HUB_API_TOKENS and explains a bad entry', () => {
    const t = 'a'.repeat(32);
    expect(parseApiTokens(`checkout:${t}:order, cart.recalculateTotals ;\n ops:${'b'.repeat(24)}:*`)).toEqual([
      { name: 'checkout', token: t, scopes: ['order', 'cart.recalculateTotals'] },
      { name: 'ops', token: 'b'.repeat(24), scopes: ['*'] },
    ]);
    expect(parseApiTokens(undefined)).toEqual([]);
    expect(() => parseApiTokens(`checkout:${t}`)).toThrow(/client:token:scopes/);
    expect(() => parseApiTokens('checkout:short:order')).toThrow(/24\+ characters/);
    expect(() => parseApiTokens(`checkout:${t}:ordr`)).toThrow(/unknown scope "ordr" \(did you mean "order"\?\)/);
    expect(() => parseApiTokens(`a:${t}:order;b:${t}:cart`)).toThrow(/same token/);
  });
});
