import { once } from 'node:events';
import http, { type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FlowConfig } from '../../src/core/flow/limits.ts';
import { useTestHub } from '../helpers/test-hub.ts';

/** A forward HTTP proxy: takes absolute-form requests, records them, relays them to their target. */
const startProxy = async (name: string, seen: { proxy: string; url: string; auth?: string; open: number }[]) => {
  let open = 0;
  const server: Server = http.createServer((req, res) => {
    open++;
    seen.push({ proxy: name, url: req.url!, auth: req.headers['proxy-authorization'], open });
    const { 'proxy-authorization': _credentials, ...headers } = req.headers;
    const upstream = http.request(req.url!, { method: req.method, headers }, (answer) => {
      res.writeHead(answer.statusCode!, answer.headers);
      answer.pipe(res);
    });
    res.on('close', () => open--);
    req.pipe(upstream);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
};

const seen: { proxy: string; url: string; auth?: string; open: number }[] = [];
const proxies: { server: Server; url: string }[] = [];
const flow: FlowConfig = { services: {}, pools: {} };

beforeAll(async () => {
  proxies.push(await startProxy('a', seen), await startProxy('b', seen));
  // Filled in before the hub's first test starts its worker; one proxy carries credentials.
  const withAuth = new URL(proxies[1]!.url);
  withAuth.username = 'hub';
  withAuth.password = 's3cret';
  Object.assign(flow, {
    services: { order: { service: 'order', maxWaitMs: 5_000, pool: 'proxies' } },
    pools: { proxies: { pool: 'proxies', items: [proxies[0]!.url, withAuth.toString()], cooldownMs: 0, leaseTtlMs: 10_000 } },
  } satisfies FlowConfig);
});
afterAll(() => proxies.forEach((p) => (p.server.closeAllConnections(), p.server.close())));

const hub = useTestHub({ flow });

describe('a service routed through a pool of proxies', () => {
  it('sends every call through a leased proxy, one call per proxy at a time', async () => {
    hub.services.order.reply('POST', '/api/orders/:id/invoice', { status: 200, body: { invoiceId: 'inv-1' }, delayMs: 20 });
    const jobs = await Promise.all(Array.from({ length: 8 }, () => hub.producer.enqueue('order.generateInvoice', { orderId: randomUUID() })));
    await Promise.all(jobs.map((j) => hub.finished(j)));
    expect(hub.services.order.requests).toHaveLength(8);
    expect(seen).toHaveLength(8);
    expect(new Set(seen.map((s) => s.proxy))).toEqual(new Set(['a', 'b']));
    // Absolute-form request lines, as a forward proxy expects; credentials only to the proxy that has them.
    for (const s of seen) expect(s.url).toMatch(new RegExp(`^${hub.services.order.url}/api/orders/[0-9a-f-]+/invoice$`));
    expect(seen.filter((s) => s.proxy === 'b').every((s) => s.auth === `Basic ${Buffer.from('hub:s3cret').toString('base64')}`)).toBe(true);
    expect(seen.filter((s) => s.proxy === 'a').every((s) => s.auth === undefined)).toBe(true);
    expect(Math.max(...seen.map((s) => s.open))).toBe(1);
    expect(hub.services.order.requests.every((r) => r.headers['proxy-authorization'] === undefined)).toBe(true);
  });
});
