import { once } from 'node:events';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadEnv } from '../../src/config/env.ts';
import { createLogger } from '../../src/core/logger.ts';
import { runDashboard, type DashboardHandle } from '../../src/dashboard/run-dashboard.ts';
import { newPrefix, testRedisUrl } from '../helpers/test-hub.ts';

/**
 * Requests Node's HTTP parser refuses before express sees them (bare CR/LF/NUL in a header, a
 * 100 KB header) still get the API's JSON error shape. Sent as raw bytes: fetch would refuse to
 * send them.
 */
let dashboard: DashboardHandle;

beforeAll(async () => {
  const env = loadEnv({ REDIS_URL: testRedisUrl(), HUB_PREFIX: newPrefix(), DASHBOARD_PORT: '0', DASHBOARD_PASSWORD: 'a-long-test-password-1' });
  dashboard = await runDashboard(env, createLogger({ name: 'dashboard', level: 'silent' }));
});
afterAll(() => dashboard.stop());

/** Writes `raw` on a fresh connection and reads until the server closes it. */
const exchange = async (raw: Buffer | string): Promise<string> => {
  const socket = connect(dashboard.port, '127.0.0.1');
  await once(socket, 'connect');
  const chunks: Buffer[] = [];
  socket.on('data', (d: Buffer) => chunks.push(d));
  socket.on('error', () => {}); // the server may reset once it has answered
  socket.write(raw);
  await once(socket, 'close');
  return Buffer.concat(chunks).toString('latin1');
};

const parse = (response: string) => {
  const [head = '', body = ''] = response.split('\r\n\r\n');
  const [status, ...headers] = head.split('\r\n');
  const header = (name: string) => headers.find((h) => h.toLowerCase().startsWith(`${name}:`))?.slice(name.length + 1).trim();
  return { status: Number(status!.split(' ')[1]), header, body };
};

describe('requests the HTTP parser refuses', () => {
  it.each([
    ['a bare CR in a header value', 'X-Test: a\rb\r\n'],
    ['a bare LF in a header value', 'X-Test: a\nb\r\n'],
    ['a NUL in a header value', 'X-Test: a\0b\r\n'],
    ['a space in a header name', 'X Test: a\r\n'],
  ])('%s: 400 with the JSON error shape', async (_, header) => {
    const res = parse(await exchange(`POST /api/v1/tasks/order.cancelUnpaidOrders HTTP/1.1\r\nHost: x\r\n${header}Content-Length: 2\r\n\r\n{}`));
    expect(res.status).toBe(400);
    expect(res.header('content-type')).toMatch(/^application\/json/);
    expect(Number(res.header('content-length'))).toBe(Buffer.byteLength(res.body));
    expect(JSON.parse(res.body)).toEqual({ error: { code: 'bad_request', message: expect.stringMatching(/malformed HTTP request/) as string } });
  });

  it('a 100 KB header: 431 with the JSON error shape', async () => {
    const res = parse(await exchange(`GET /api/v1/tasks HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(100_000)}\r\n\r\n`));
    expect(res.status).toBe(431);
    expect(res.header('content-type')).toMatch(/^application\/json/);
    expect(JSON.parse(res.body)).toEqual({ error: { code: 'headers_too_large', message: expect.stringMatching(/16 KB/) as string } });
  });

  it('a well-formed request on the same server is still answered by the app', async () => {
    const res = parse(await exchange('GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'));
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toEqual({ ok: true });
  });
});
