import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidPayloadError } from '../src/producer/index.ts';
import { startRedisServer, type RedisServer } from '../src/launcher/redis-server.ts';
import { CLIENTS, tokenOf, useDashboard } from './dashboard/dashboard-harness.ts';
import { spawnRole, type RoleProcess } from './helpers/spawn-role.ts';
import { useTestHub } from './helpers/test-hub.ts';

describe('the dashboard and the API refuse every unauthenticated or out-of-scope request', () => {
  const hub = useTestHub({ worker: false });
  const dash = useDashboard(() => hub.prefix);
  const checkout = { bearer: tokenOf('checkout') };
  const basicWith = (user: string, password: string) => ({ authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` });

  // [method, path, credentials, expected status]. Board and API reads/writes not already listed in test/dashboard.
  const refused: [string, string, Record<string, string>, number][] = [
    // No credentials at all: board writes.
    ['POST', '/api/queues/order/add', {}, 401],
    ['PUT', '/api/queues/order/pause', {}, 401],
    ['PUT', '/api/queues/order/clean/completed', {}, 401],
    ['PUT', '/api/queues/order/retry/failed', {}, 401],
    ['DELETE', '/api/queues/order/empty', {}, 401],
    ['PUT', '/api/queues/order/obliterate', {}, 401],
    // No credentials: API reads.
    ['GET', `/api/v1/jobs/order.${randomUUID()}`, {}, 401],
    ['GET', '/api/v1/jobs?task=order.generateInvoice&state=waiting', {}, 401],
    // An API token is not a board login, in either header form.
    ['GET', '/', { authorization: `Bearer ${tokenOf('ops')}` }, 401],
    ['GET', '/metrics', { authorization: `Bearer ${tokenOf('ops')}` }, 401],
    ['PUT', '/api/queues/order/pause', { authorization: `Bearer ${tokenOf('ops')}` }, 401],
    ['GET', '/', basicWith('ops', tokenOf('ops')), 401],
    // Tokens travel in the Authorization header only (URLs end up in logs and browser history).
    ['POST', `/api/v1/tasks/order.cancelUnpaidOrders?token=${tokenOf('ops')}`, {}, 401],
    ['POST', `/api/v1/tasks/order.cancelUnpaidOrders?access_token=${tokenOf('ops')}`, {}, 401],
    // Malformed or empty Authorization headers.
    ['POST', '/api/v1/tasks/order.cancelUnpaidOrders', { authorization: 'Bearer' }, 401],
    ['POST', '/api/v1/tasks/order.cancelUnpaidOrders', { authorization: `Token ${tokenOf('ops')}` }, 401],
    ['POST', '/api/v1/tasks/order.cancelUnpaidOrders', { authorization: `Bearer ${tokenOf('ops')} extra` }, 401],
    ['GET', '/', { authorization: 'Basic ' }, 401],
    ['GET', '/', basicWith('', ''), 401],
    // Out of scope: the checkout token (order, cart.recalculateTotals).
    ['POST', '/api/v1/tasks/product.reindex', { authorization: `Bearer ${tokenOf('checkout')}` }, 403],
    ['GET', '/api/v1/jobs?task=product.reindex&state=waiting', { authorization: `Bearer ${tokenOf('checkout')}` }, 403],
    // The read-only account: no enqueueing through the API either.
    ['POST', '/api/v1/tasks/order.cancelUnpaidOrders', basicWith('viewer', 'viewer-pass-1'), 401],
  ];

  it.each(refused)('%s %s with %o -> %i, and nothing changes', async (method, path, headers, status) => {
    const job = await hub.producer.enqueue('product.reindex', {});
    const res = await dash.request(method, path, { headers: { ...headers, 'content-type': 'application/json' }, body: method === 'GET' ? undefined : '{}' });
    expect(res.status).toBe(status);
    const body = await res.text();
    for (const c of CLIENTS) expect(body).not.toContain(c.token);
    const queue = hub.rawQueue('order');
    expect(await queue.count()).toBe(0);
    expect(await queue.isPaused()).toBe(false);
    expect(await hub.rawQueue('product').getJobState(job.id)).toBe('waiting');
  });

  it('an out-of-scope client cannot read another service\'s job, even knowing its id', async () => {
    const job = await hub.producer.enqueue('product.reindex', {});
    expect((await dash.get(`/api/v1/jobs/${job.id}`, checkout)).status).toBe(403);
  });
});

describe('secrets never reach logs or error messages', () => {
  const REDIS_PASSWORD = 'redis-pw-4f9c2b7e1d';
  const DASHBOARD_PASSWORD = 'dash-pw-8a1f3c9e5b';
  const TOKEN = 'tok-checkout-0123456789abcdef0123';
  const GUESSED = 'tok-guessed-9876543210fedcba9876';
  const RESET_TOKEN = 'reset-token-7d3e9a1c5f2b8e4d';
  let server: RedisServer;
  let dir: string;
  let authedUrl: string;
  const spawned: RoleProcess[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'hub-secrets-'));
    server = await startRedisServer({ dir, appendonly: false });
    const admin = new Redis(server.url);
    await admin.config('SET', 'requirepass', REDIS_PASSWORD);
    admin.disconnect();
    authedUrl = `redis://:${REDIS_PASSWORD}@127.0.0.1:${server.port}`;
  });
  afterAll(async () => {
    for (const p of spawned) if (p.child.exitCode === null) p.child.kill('SIGKILL');
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  const spawn = (entry: string, env: Record<string, string>) => {
    const p = spawnRole(entry, env);
    spawned.push(p);
    return p;
  };
  const expectNoSecrets = (text: string, ...secrets: string[]) => {
    for (const s of secrets) expect(text, `leaked ${s}`).not.toContain(s);
  };

  it('the worker logs the Redis URL with the password masked, and a refused password not at all', async () => {
    const good = spawn('src/worker/main.ts', { REDIS_URL: authedUrl, HUB_PREFIX: 'sec', HUB_QUEUES: 'order' });
    await good.waitForLine(/"worker ready"/);
    expect(good.lines.join('\n')).toContain(`redis://:***@127.0.0.1:${server.port}`);
    const wrong = 'wrong-pw-1b2c3d4e5f';
    const bad = spawn('src/worker/main.ts', { REDIS_URL: `redis://:${wrong}@127.0.0.1:${server.port}`, HUB_PREFIX: 'sec' });
    await bad.waitForLine(/WRONGPASS|NOAUTH|invalid password/i, 15_000);
    for (const p of [good, bad]) p.child.kill('SIGTERM');
    await Promise.all([good.exited, bad.exited]);
    expectNoSecrets([...good.lines, ...bad.lines].join('\n'), REDIS_PASSWORD, wrong);
  });

  it('the dashboard process never logs or echoes passwords, API tokens, a guessed token or a sensitive payload field', async () => {
    const dash = spawn('src/dashboard/main.ts', {
      REDIS_URL: authedUrl,
      HUB_PREFIX: 'sec',
      DASHBOARD_PORT: '0',
      DASHBOARD_PASSWORD,
      HUB_API_TOKENS: `checkout:${TOKEN}:order,auth`,
      LOG_LEVEL: 'debug',
    });
    const line = await dash.waitForLine(/"dashboard listening"/);
    const { port } = JSON.parse(line) as { port: number };
    const url = `http://127.0.0.1:${port}`;
    const bodies: string[] = [];
    const call = async (path: string, init: RequestInit) => {
      const res = await fetch(`${url}${path}`, init);
      bodies.push(await res.text());
      return res.status;
    };
    const json = { 'content-type': 'application/json' };
    const reset = (resetToken: string) => JSON.stringify({ userId: randomUUID(), email: 'a@b.co', resetToken });
    expect(await call('/', { headers: { authorization: `Basic ${Buffer.from(`admin:${DASHBOARD_PASSWORD}x`).toString('base64')}` } })).toBe(401);
    expect(await call('/api/v1/tasks/auth.sendPasswordResetEmail', { method: 'POST', headers: { ...json, authorization: `Bearer ${GUESSED}` }, body: reset(RESET_TOKEN) })).toBe(401);
    expect(await call('/api/v1/tasks/auth.sendPasswordResetEmail', { method: 'POST', headers: { ...json, authorization: `Bearer ${TOKEN}` }, body: reset(RESET_TOKEN) })).toBe(202);
    // Invalid because of another field, and invalid because the secret itself is wrong: neither echoes it.
    const invalid = JSON.stringify({ userId: 'nope', email: 'a@b.co', resetToken: RESET_TOKEN });
    expect(await call('/api/v1/tasks/auth.sendPasswordResetEmail', { method: 'POST', headers: { ...json, authorization: `Bearer ${TOKEN}` }, body: invalid })).toBe(400);
    expect(await call('/api/v1/tasks/auth.sendPasswordResetEmail', { method: 'POST', headers: { ...json, authorization: `Bearer ${TOKEN}` }, body: reset('short-secret') })).toBe(400);
    dash.child.kill('SIGTERM');
    await dash.exited;
    expectNoSecrets([...dash.lines, ...bodies].join('\n'), REDIS_PASSWORD, DASHBOARD_PASSWORD, TOKEN, GUESSED, RESET_TOKEN, 'short-secret');
  });

  it('an invalid payload\'s error names the sensitive field, never its value', async () => {
    const { createProducer } = await import('../src/producer/index.ts');
    const producer = createProducer({ redisUrl: authedUrl, prefix: 'sec', service: 'test' });
    const err = await producer.enqueue('auth.sendPasswordResetEmail', { userId: randomUUID(), email: 'a@b.co', resetToken: 'short-secret' }).catch((e: unknown) => e);
    await producer.close();
    expect(err).toBeInstanceOf(InvalidPayloadError);
    expect((err as Error).message).toMatch(/at resetToken/);
    expectNoSecrets(`${(err as Error).message}\n${(err as Error).stack}`, 'short-secret', REDIS_PASSWORD);
  });
});
