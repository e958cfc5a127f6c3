import { request as httpRequest, Agent } from 'node:http';
import { Writable } from 'node:stream';
import { beforeEach, describe, expect, it } from 'vitest';
import { loadEnv } from '../../src/config/env.ts';
import { createLogger } from '../../src/core/logger.ts';
import { runDashboard } from '../../src/dashboard/run-dashboard.ts';
import { testRedisUrl, useTestHub } from '../helpers/test-hub.ts';
import { Lines } from '../helpers/lines.ts';
import { ACCOUNTS, tokenOf, useDashboard } from './dashboard-harness.ts';

let lines = new Lines();
const log = createLogger({ name: 'dashboard', destination: new Writable({ write: (c, _e, done) => (lines.push(c.toString()), done()) }) });
beforeEach(() => {
  lines = new Lines();
});

const hub = useTestHub({ worker: false });
const dash = useDashboard(() => hub.prefix, { log });
const { password: ADMIN } = ACCOUNTS.find((a) => a.user === 'admin')!;
const { password: VIEWER } = ACCOUNTS.find((a) => a.user === 'viewer')!;
const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
const agent = new Agent({ keepAlive: true, maxSockets: 50 });

/** A request from one loopback address (all of 127/8 is loopback on Linux): a distinct client to the dashboard. */
const from = (localAddress: string, path: string, headers: Record<string, string> = {}) =>
  new Promise<{ status: number; retryAfter?: string; body: string }>((resolve, reject) => {
    const req = httpRequest(`${dash.url}${path}`, { localAddress, headers, agent }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode!, retryAfter: res.headers['retry-after'], body }));
    });
    req.on('error', reject);
    req.end();
  });

const statuses = (results: { status: number }[]) => results.reduce<Record<number, number>>((n, r) => ({ ...n, [r.status]: (n[r.status] ?? 0) + 1 }), {});
const logged = () => lines.all.map((l) => JSON.parse(l) as { msg: string; address?: string; account?: string; scheme?: string; retryAfterSeconds?: number });

describe('wrong passwords and tokens are limited per address and logged', () => {
  it('lets 10 of 300 parallel wrong logins be checked; the rest, and then the right password, get 429 with Retry-After', async () => {
    const guesses = Array.from({ length: 300 }, (_, i) => `guess-${i}-${ADMIN}`);
    const results = await Promise.all(guesses.map((g) => from('127.0.0.1', '/', { authorization: basic('admin', g) })));
    expect(statuses(results)).toEqual({ 401: 10, 429: 290 });
    const refused = results.find((r) => r.status === 429)!;
    expect(Number(refused.retryAfter)).toBeGreaterThanOrEqual(1);
    expect(Number(refused.retryAfter)).toBeLessThanOrEqual(60);
    expect(JSON.parse(refused.body)).toMatchObject({ error: { code: 'too_many_attempts' } });
    expect((await from('127.0.0.1', '/', { authorization: basic('admin', ADMIN) })).status).toBe(429);

    const entries = logged().filter((l) => l.msg.startsWith('auth: refused'));
    expect(entries).toHaveLength(301);
    expect(entries.every((l) => l.address === '127.0.0.1' && l.account === 'admin' && l.scheme === 'basic')).toBe(true);
    expect(entries.filter((l) => l.msg === 'auth: refused, wrong user or password')).toHaveLength(10);
    const text = lines.all.join('\n');
    for (const g of [...guesses, ADMIN]) expect(text).not.toContain(g);
  });

  it('limits bearer token guesses the same way, and never logs a guessed token', async () => {
    const guesses = Array.from({ length: 30 }, (_, i) => `guessed-token-${i}-0123456789abcdef`);
    const results = [];
    for (const g of guesses) results.push(await from('127.0.0.2', '/api/v1/tasks', { authorization: `Bearer ${g}` }));
    expect(statuses(results)).toEqual({ 401: 10, 429: 20 });
    // A real token from that address waits too; from another address it works.
    expect((await from('127.0.0.2', '/api/v1/tasks', { authorization: `Bearer ${tokenOf('ops')}` })).status).toBe(429);
    expect((await from('127.0.0.3', '/api/v1/tasks', { authorization: `Bearer ${tokenOf('ops')}` })).status).toBe(200);
    const entries = logged().filter((l) => l.msg.startsWith('auth: refused'));
    expect(entries).toHaveLength(31);
    expect(entries.every((l) => l.address === '127.0.0.2' && l.scheme === 'bearer')).toBe(true);
    const text = lines.all.join('\n');
    for (const t of [...guesses, tokenOf('ops')]) expect(text).not.toContain(t);
  });

  it('counts wrong logins on the API read routes too', async () => {
    for (let i = 0; i < 10; i++) expect((await from('127.0.0.4', '/api/v1/tasks', { authorization: basic('viewer', `nope-${i}`) })).status).toBe(401);
    expect((await from('127.0.0.4', '/api/v1/tasks', { authorization: basic('viewer', VIEWER) })).status).toBe(429);
    expect((await from('127.0.0.4', '/metrics', { authorization: basic('viewer', VIEWER) })).status).toBe(429);
  });

  it('never counts a request without credentials (how a browser asks for the login prompt)', async () => {
    for (let i = 0; i < 30; i++) expect((await from('127.0.0.5', '/')).status).toBe(401);
    expect((await from('127.0.0.5', '/', { authorization: basic('admin', ADMIN) })).status).toBe(200);
    expect(logged().filter((l) => l.msg.startsWith('auth: refused'))).toEqual([]);
  });
});

describe('guesses from elsewhere cannot lock the real admin out', () => {
  it('holds back only addresses that failed, even while the account is under attack from many', async () => {
    // One noisy address, and ten that try once each: together the admin account is over its limit.
    for (let i = 0; i < 15; i++) await from('127.0.0.10', '/', { authorization: basic('admin', `guess-${i}`) });
    for (let a = 11; a <= 20; a++) expect((await from(`127.0.0.${a}`, '/', { authorization: basic('admin', `guess-${a}`) })).status).toBe(401);

    // The admin, from an address that never failed: in.
    expect((await from('127.0.0.30', '/', { authorization: basic('admin', ADMIN) })).status).toBe(200);
    // An address that guessed once waits for the admin account, even with the right password...
    const held = await from('127.0.0.11', '/', { authorization: basic('admin', ADMIN) });
    expect(held.status).toBe(429);
    expect(Number(held.retryAfter)).toBeGreaterThanOrEqual(1);
    // ...but not for another account, nor with a token.
    expect((await from('127.0.0.11', '/', { authorization: basic('viewer', VIEWER) })).status).toBe(200);
    expect((await from('127.0.0.11', '/api/v1/tasks', { authorization: `Bearer ${tokenOf('ops')}` })).status).toBe(200);
  });

  it('does not count names that are no account (they cannot lock anyone out, nor fill memory)', async () => {
    for (let a = 40; a < 55; a++) await from(`127.0.0.${a}`, '/', { authorization: basic(`someone-${a}`, 'guess') });
    expect((await from('127.0.0.40', '/', { authorization: basic('admin', ADMIN) })).status).toBe(200);
    expect(logged().find((l) => l.address === '127.0.0.40')).toMatchObject({ msg: 'auth: refused, wrong user or password', scheme: 'basic' });
    expect(lines.all.join('\n')).not.toContain('someone-');
  });
});

describe('behind a reverse proxy', () => {
  const proxied = useDashboard(() => hub.prefix, { log, trustProxy: 'loopback' });
  const via = (client: string, authorization: string) => proxied.request('GET', '/', { headers: { authorization, 'x-forwarded-for': client } });

  it('limits each client named by a trusted proxy, not the proxy', async () => {
    for (let i = 0; i < 10; i++) expect((await via('203.0.113.7', basic('admin', `guess-${i}`))).status).toBe(401);
    expect((await via('203.0.113.7', basic('admin', ADMIN))).status).toBe(429);
    expect((await via('198.51.100.2', basic('admin', ADMIN))).status).toBe(200);
    expect(logged().find((l) => l.msg === 'auth: refused, too many failures')?.address).toBe('203.0.113.7');
  });

  it('refuses to start on a DASHBOARD_TRUST_PROXY that names no proxy (trusting anyone lets a client pick its address)', async () => {
    const env = loadEnv({ REDIS_URL: testRedisUrl(), HUB_PREFIX: hub.prefix, DASHBOARD_PORT: '0', DASHBOARD_TRUST_PROXY: 'true' });
    await expect(runDashboard(env, log)).rejects.toThrow(/^DASHBOARD_TRUST_PROXY: invalid IP address: true/);
  });

  it('ignores X-Forwarded-For unless told to trust the proxy: a client cannot pick a fresh address', async () => {
    for (let i = 0; i < 10; i++) {
      const res = await dash.request('GET', '/', { headers: { authorization: basic('admin', `guess-${i}`), 'x-forwarded-for': `203.0.113.${i}` } });
      expect(res.status).toBe(401);
    }
    const res = await dash.request('GET', '/', { headers: { authorization: basic('admin', ADMIN), 'x-forwarded-for': '203.0.113.99' } });
    expect(res.status).toBe(429);
  });
});
