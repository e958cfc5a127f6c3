import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { catalog, catalogOf, domain, task } from '../../src/contracts/index.ts';
import type { FlowConfig } from '../../src/core/flow/limits.ts';
import type { FlowStatus } from '../../src/core/flow/status.ts';
import { buildRegistry } from '../../src/worker/registry.ts';
import { handle } from '../../tasks/context.ts';
import { handlers } from '../../tasks/index.ts';
import { useTestHub } from '../helpers/test-hub.ts';
import { parseExposition, useDashboard } from '../dashboard/dashboard-harness.ts';

const flow: FlowConfig = {
  services: { pricing: { service: 'pricing', rateLimit: { max: 10, perMs: 1_000, marginMs: 50 }, maxWaitMs: 5_000 } },
  pools: { proxies: { pool: 'proxies', items: ['p1', 'p2'], cooldownMs: 60_000, leaseTtlMs: 30_000 } },
};
const hub = useTestHub({ flow });
const dash = useDashboard(() => hub.prefix, { flow });

const t = domain('flowdash', {
  price: task({ description: 'one pricing call', schema: z.strictObject({ n: z.int() }), queue: 'product', timeoutMs: 10_000 }),
  lease: task({ description: 'one lease', schema: z.strictObject({ n: z.int() }), queue: 'product', timeoutMs: 10_000 }),
});
const registry = () =>
  buildRegistry(
    [
      ...handlers,
      handle(t.price, async ({ n }, { http, signal }) => http.pricing.get(`d/${n}`, { signal }).json()),
      handle(t.lease, async (_p, ctx) => ctx.lease('proxies', async (item) => item)),
    ],
    { ...catalog, ...catalogOf(t) },
  );
const add = async (contract: { name: string; queue: string }, data: object) => {
  const job = await hub.rawQueue(contract.queue).add(contract.name, data, { attempts: 3 });
  return { id: job.id!, queue: contract.queue };
};

describe('flow control in /metrics and GET /api/v1/limits', () => {
  it('shows calls, waits, 429s, the hold-off, keys waiting and pool items, fleet-wide; promtool-clean', async () => {
    await hub.startWorker(registry());
    hub.services.pricing.reply('GET', '/d/:n', { status: 200, body: {} }, { status: 200, body: {} }, { status: 200, body: {} }, { status: 429, headers: { 'retry-after': '30' } }, { status: 200, body: {} });
    // Three paced calls (two of them wait their turn), then a 429 that holds the fleet off 30 s.
    for (const n of [1, 2, 3]) await hub.finished(await add(t.price, { n }));
    await add(t.price, { n: 4 });
    await expect.poll(() => hub.services.pricing.requests.length, { timeout: 5_000 }).toBe(4);
    // Two leases: both items cooling for a minute.
    for (const n of [1, 2]) await hub.finished(await add(t.lease, { n }));
    // An order whose key is busy: the second job of it waits.
    hub.services.order.reply('GET', '/api/orders/:id', { status: 200, body: { id: 'x', status: 'paid' }, delayMs: 1_500 });
    const orderId = randomUUID();
    await hub.producer.enqueue('order.sendConfirmation', { orderId, email: 'a@b.co' });
    await hub.producer.enqueue('order.sendConfirmation', { orderId, email: 'a@b.co' });
    await expect.poll(() => hub.logs.filter((l) => l.includes('is busy')).length, { timeout: 5_000 }).toBe(1);
    await expect.poll(() => hub.logs.filter((l) => l.includes('task deferred') && l.includes('flowdash.price')).length, { timeout: 5_000 }).toBe(1);
    await hub.flow!.metrics.flush();

    const limits = (await (await dash.get('/api/v1/limits', 'viewer')).json()) as FlowStatus;
    expect(limits.services).toEqual([
      { service: 'pricing', rateLimit: { max: 10, perMs: 1_000 }, maxInFlight: null, nextTurnInMs: expect.any(Number), holdOffMs: expect.any(Number), holdOffStatus: 429, inFlight: 0 },
    ]);
    expect(limits.services[0]!.holdOffMs).toBeGreaterThan(25_000);
    expect(limits.keys).toEqual([{ task: 'order.sendConfirmation', perKey: 1, waitingJobs: 1, busiest: [{ key: orderId, waiting: 1 }] }]);
    expect(limits.pools).toEqual([{ pool: 'proxies', items: 2, free: 0, cooling: 2, leased: 0, cooldownMs: 60_000 }]);

    const text = await (await dash.get('/metrics', 'viewer')).text();
    const value = (name: string, labels: Record<string, string>) =>
      parseExposition(text).find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
    expect(value('taskhub_service_calls_total', { service: 'pricing' })).toBe(4);
    expect(value('taskhub_service_waited_total', { service: 'pricing' })).toBeGreaterThanOrEqual(2);
    expect(value('taskhub_service_wait_seconds_count', { service: 'pricing' })).toBe(4);
    expect(value('taskhub_service_wait_seconds_bucket', { service: 'pricing', le: '+Inf' })).toBe(4);
    expect(value('taskhub_service_throttled_total', { service: 'pricing' })).toBe(1);
    expect(value('taskhub_service_throttled_total', { service: 'order' })).toBe(0);
    expect(value('taskhub_service_holdoff_seconds', { service: 'pricing' })).toBeGreaterThan(25);
    expect(value('taskhub_key_waiting_jobs', { task: 'order.sendConfirmation' })).toBe(1);
    expect(value('taskhub_key_deferred_total', { task: 'order.sendConfirmation' })).toBe(1);
    expect(value('taskhub_pool_items', { pool: 'proxies', state: 'cooling' })).toBe(2);
    expect(value('taskhub_pool_leases_total', { pool: 'proxies' })).toBe(2);

    const check = spawnSync(process.env.PROMTOOL_PATH ?? 'promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
    expect({ status: check.status, output: `${check.stdout}${check.stderr}` }).toEqual({ status: 0, output: '' });
  });

  it('GET /api/v1/limits needs a dashboard account or an API token', async () => {
    expect((await dash.get('/api/v1/limits')).status).toBe(401);
  });
});
