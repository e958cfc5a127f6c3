import { describe, expect, it } from 'vitest';
import { appRoutes } from '@bull-board/api/dist/routes.js';
import { loadEnv } from '../../src/config/env.ts';
import { allows, allowsAction, parseApiTokens } from '../../src/dashboard/api-tokens.ts';
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
      loadEnv({ NODE_ENV: 'production', DASHBOARD_USER: 'ops', DASHBOARD_PASSWORD: 's3cret-pass-1', DASHBOARD_READONLY_USER: 'ro', DASHBOARD_READONLY_PASSWORD: 'ro-pass-long' }),
    );
    expect(prod.map((a) => [a.user, a.role])).toEqual([['ops', 'admin'], ['ro', 'viewer']]);
    expect(() => accountsFrom(loadEnv({ DASHBOARD_READONLY_USER: 'ro' }))).toThrow(/both/);
  });

  it('refuses trivial passwords in production, naming the variable and never the value', () => {
    const prod = (vars: Record<string, string>) => () => accountsFrom(loadEnv({ NODE_ENV: 'production', ...vars }));
    const refusals: [Record<string, string>, RegExp][] = [
      [{ DASHBOARD_PASSWORD: 'admin' }, /^DASHBOARD_PASSWORD is under 12 characters/],
      [{ DASHBOARD_PASSWORD: 'eleven-char' }, /^DASHBOARD_PASSWORD is under 12 characters/],
      [{ DASHBOARD_USER: 'operator-on-duty', DASHBOARD_PASSWORD: 'Operator-On-Duty' }, /^DASHBOARD_PASSWORD is the user name/],
      [{ DASHBOARD_PASSWORD: 'a-long-password-1', DASHBOARD_READONLY_USER: 'ro', DASHBOARD_READONLY_PASSWORD: 'viewer-pw' }, /^DASHBOARD_READONLY_PASSWORD is under 12 characters/],
    ];
    for (const [vars, message] of refusals) {
      expect(prod(vars), JSON.stringify(vars)).toThrow(message);
      const text = (() => {
        try {
          prod(vars)();
        } catch (err) {
          return (err as Error).message;
        }
        return '';
      })();
      expect(text).not.toContain(vars.DASHBOARD_READONLY_PASSWORD ?? vars.DASHBOARD_PASSWORD);
    }
    expect(prod({ DASHBOARD_PASSWORD: 'twelve-chars' })()).toHaveLength(1);
    // Outside production the same passwords start (a laptop, a test).
    expect(accountsFrom(loadEnv({ NODE_ENV: 'development', DASHBOARD_PASSWORD: 'admin' }))).toHaveLength(1);
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

  it('parses action scopes (control is not enqueueing): <domain|task|*>:cancel and admin', () => {
    const t = 'a'.repeat(32);
    const [support] = parseApiTokens(`support:${t}:order:cancel, cart.sendAbandonedCartReminder:cancel`);
    expect(support!.scopes).toEqual(['order:cancel', 'cart.sendAbandonedCartReminder:cancel']);
    expect(allowsAction(support!, 'cancel', 'order.generateInvoice')).toBe(true);
    expect(allowsAction(support!, 'cancel', 'cart.sendAbandonedCartReminder')).toBe(true);
    expect(allowsAction(support!, 'cancel', 'cart.recalculateTotals')).toBe(false);
    expect(allows(support!, 'order.generateInvoice')).toBe(false);
    const [checkout] = parseApiTokens(`checkout:${t}:order`);
    expect(allowsAction(checkout!, 'cancel', 'order.generateInvoice')).toBe(false);
    const [root] = parseApiTokens(`root:${t}:admin`);
    expect(allowsAction(root!, 'cancel', 'product.reindex') && allows(root!, 'product.reindex')).toBe(true);
    expect(allowsAction(parseApiTokens(`any:${t}:*:cancel`)[0]!, 'cancel', 'auth.revokeUserSessions')).toBe(true);
    expect(() => parseApiTokens(`x:${t}:order:cancle`)).toThrow(/unknown scope "order:cancle" \(did you mean "order:cancel"\?\)/);
    expect(() => parseApiTokens(`x:${t}:ordr:cancel`)).toThrow(/unknown scope "ordr:cancel"/);
  });

  it('never echoes a value of HUB_API_TOKENS that may be a token, however the entry is broken', () => {
    // Lowercase hex starting with a letter also passes as a client name: the misordered entry of the report.
    const secret = `deadbeef${'0123456789abcdef'.repeat(2)}`;
    const other = 'Zq9'.repeat(10);
    const broken = [
      `${secret}:ops:*`,
      `${other}:ops:*`,
      `ops:*:${secret}`,
      `ops:order:${secret}`,
      `ops:${other}:${secret}`,
      `${secret}:${other}:order`,
      `ops:${secret}`,
      `ops:${other}:order;ops:${'b'.repeat(24)}:cart;${secret}:x:y`,
    ];
    for (const raw of broken) {
      let message = '';
      try {
        parseApiTokens(raw);
      } catch (err) {
        message = (err as Error).message;
      }
      expect(message, raw).toMatch(/^HUB_API_TOKENS entry \d/);
      expect(message, raw).not.toContain(secret);
      expect(message, raw).not.toContain(other);
    }
    // Names and short scopes are still named where they help.
    expect(() => parseApiTokens(`ops:${other}:order;ops:${'b'.repeat(24)}:cart`)).toThrow(/entry 2: client "ops" is listed twice/);
  });
});
