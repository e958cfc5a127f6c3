import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { runBeat } from '../../src/beat/run-beat.ts';
import type { ScheduleEntry } from '../../src/contracts/schedule.ts';
import { parseApiTokens } from '../../src/dashboard/api-tokens.ts';
import { beatEnv, captureLog } from '../beat/helpers.ts';
import { useTestHub } from '../helpers/test-hub.ts';
import { token, tokenOf, useDashboard } from './dashboard-harness.ts';

const schedule: ScheduleEntry[] = [{ id: 'cart-purge', task: 'cart.purgeExpiredCarts', cron: '*/15 * * * *', payload: { olderThanHours: 72 } }];
const hub = useTestHub();
const dash = useDashboard(() => hub.prefix, { schedule });
const bearer = (name: string) => ({ bearer: tokenOf(name) });
type Body = { error?: { code: string; message: string; fields?: { path: string }[] }; [k: string]: unknown };
const json = async (res: Response) => ({ status: res.status, body: (await res.json()) as Body });

const failedInvoices = async (n: number) => {
  hub.services.order.reply('POST', '/api/orders/:id/invoice', 404);
  const jobs = await Promise.all(Array.from({ length: n }, () => hub.producer.enqueue('order.generateInvoice', { orderId: randomUUID() })));
  for (const j of jobs) await expect(hub.finished(j)).rejects.toThrow(/404/);
  return jobs;
};
const audit = async () => ((await json(await dash.get('/api/v1/audit', bearer('root')))).body.entries as { who: string; action: string }[]).map((e) => `${e.who} ${e.action}`);

describe('control API: who may do what', () => {
  it('an enqueue token cannot replay, pause, limit or read the audit; action scopes can, within their reach', async () => {
    await failedInvoices(2);
    const filter = { task: 'order.generateInvoice', dryRun: true };
    expect((await dash.post('/api/v1/replays', filter, bearer('checkout'))).status).toBe(403);
    expect((await dash.post('/api/v1/schedules/cart-purge/pause', {}, bearer('checkout'))).status).toBe(403);
    expect((await dash.request('PUT', '/api/v1/queues/order/limits', { as: bearer('checkout'), json: { concurrency: 2 } })).status).toBe(403);
    expect((await dash.get('/api/v1/audit', bearer('checkout'))).status).toBe(403);
    expect((await dash.get('/api/v1/audit', bearer('scheduler'))).status).toBe(403);
    // order:replay: order's tasks only.
    expect((await json(await dash.post('/api/v1/replays', filter, bearer('order-replayer')))).body).toMatchObject({ matched: 2, dryRun: true });
    expect((await dash.post('/api/v1/replays', { task: 'product.reindex', dryRun: true }, bearer('order-replayer'))).status).toBe(403);
    expect((await dash.post('/api/v1/schedules/cart-purge/pause', {}, bearer('order-replayer'))).status).toBe(403);
    // schedules / queues: their own controls only.
    expect((await dash.post('/api/v1/replays', filter, bearer('scheduler'))).status).toBe(403);
    expect((await dash.request('PUT', '/api/v1/queues/order/limits', { as: bearer('scheduler'), json: { concurrency: 2 } })).status).toBe(403);
    expect((await dash.request('PUT', '/api/v1/queues/order/limits', { as: bearer('queue-ops'), json: { concurrency: 2 } })).status).toBe(200);
    expect((await dash.get('/api/v1/queues', bearer('queue-ops'))).status).toBe(200);
    expect((await dash.get('/api/v1/schedules', bearer('queue-ops'))).status).toBe(403);
    expect(await audit()).toEqual(['api:queue-ops queue.limits']);
  });

  it('replays through the API: dry run, then the real thing, audited with the client', async () => {
    const jobs = await failedInvoices(3);
    hub.services.order.reply('POST', '/api/orders/:id/invoice', { status: 201, body: { invoiceId: 'INV' } });
    const dry = await json(await dash.post('/api/v1/replays', { class: 'permanent', status: 404, dryRun: true }, bearer('replayer')));
    expect(dry.status).toBe(200);
    expect(dry.body).toMatchObject({ matched: 3, retried: 0 });
    const real = await json(await dash.post('/api/v1/replays', { class: 'permanent', since: new Date(Date.now() - 60_000).toISOString() }, bearer('replayer')));
    expect(real.body).toMatchObject({ matched: 3, retried: 3 });
    for (const j of jobs) await expect(hub.finished(j)).resolves.toEqual({ invoiceId: 'INV' });
    expect(await audit()).toEqual(['api:replayer replay']);
  });

  it('lists failed jobs by filter and every job of a key, within the reader\'s scopes', async () => {
    const [job] = await failedInvoices(1);
    const orderId = ((await hub.producer.getJob(job!))!.payload as { orderId: string }).orderId;
    const failed = await json(await dash.get('/api/v1/jobs?state=failed&class=permanent&status=404', bearer('checkout')));
    expect(failed.body.jobs).toEqual([expect.objectContaining({ id: job!.id, errorClass: 'permanent', httpStatus: 404, boardUrl: `/queue/order/${job!.id}` })]);
    const byKey = await json(await dash.get(`/api/v1/jobs?key=orderId:${orderId}`, 'viewer'));
    expect(byKey.body).toMatchObject({ key: `orderId:${orderId}`, jobs: [{ id: job!.id, state: 'failed' }] });
    // auth-svc may read auth's jobs only: the order job is hidden, and counted.
    expect((await json(await dash.get(`/api/v1/jobs?key=orderId:${orderId}`, bearer('auth-svc')))).body).toMatchObject({ jobs: [], hidden: 1 });
    expect((await json(await dash.get(`/api/v1/jobs/${job!.id}`, bearer('checkout')))).body).toMatchObject({ state: 'failed', errorClass: 'permanent', httpStatus: 404 });
  });

  it('schedules and queues through the API, the trigger keyed by the request id', async () => {
    await runBeat(beatEnv(hub.prefix), captureLog().log, { schedule, once: true, print: () => {} });
    const listed = await json(await dash.get('/api/v1/schedules', bearer('scheduler')));
    expect(listed.body.schedules).toEqual([expect.objectContaining({ id: 'cart-purge', paused: false, scheduled: true })]);
    expect((await json(await dash.post('/api/v1/schedules/cart-purge/pause', {}, bearer('scheduler')))).body).toMatchObject({ paused: true, changed: true });
    const first = await dash.post('/api/v1/schedules/cart-purge/trigger', {}, bearer('scheduler'), { 'idempotency-key': 'click-7' });
    const again = await dash.post('/api/v1/schedules/cart-purge/trigger', {}, bearer('scheduler'), { 'idempotency-key': 'click-7' });
    expect([first.status, again.status]).toEqual([202, 200]);
    expect(((await again.json()) as { duplicate: boolean }).duplicate).toBe(true);
    expect((await json(await dash.post('/api/v1/queues/cart/pause', {}, bearer('root')))).body).toMatchObject({ paused: true });
    const queues = await json(await dash.get('/api/v1/queues', 'viewer'));
    expect((queues.body.queues as { name: string; paused: boolean }[]).find((q) => q.name === 'cart')?.paused).toBe(true);
    expect(await audit()).toEqual(['api:root queue.pause', 'api:scheduler schedule.trigger', 'api:scheduler schedule.trigger', 'api:scheduler schedule.pause']);
  });

  it('the board: the admin acts from its own pages only; the read-only account reads and is refused', async () => {
    expect((await dash.get('/api/v1/schedules', 'viewer')).status).toBe(200);
    expect((await dash.get('/api/v1/audit', 'viewer')).status).toBe(200);
    const viewerWrite = await json(await dash.post('/api/v1/queues/order/pause', {}, 'viewer'));
    expect(viewerWrite).toMatchObject({ status: 403, body: { error: { code: 'read_only' } } });
    expect((await json(await dash.post('/hub/api/queues/order/pause', {}, 'viewer'))).status).toBe(403);
    const crossSite = await dash.post('/api/v1/queues/order/pause', {}, 'admin', { origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' });
    expect(crossSite.status).toBe(403);
    expect((await dash.post('/hub/api/queues/order/pause', {}, 'admin', { origin: 'https://evil.example' })).status).toBe(403);
    expect(await hub.rawQueue('order').isPaused()).toBe(false);
    expect((await dash.post('/hub/api/queues/order/pause', {}, 'admin', { origin: dash.url, 'sec-fetch-site': 'same-origin' })).status).toBe(200);
    expect(await audit()).toEqual(['board:admin queue.pause']);
  });

  it('bad input: a clear 4xx naming the problem, and nothing changed', async () => {
    await failedInvoices(1);
    const cases: [string, string, unknown, number, string | RegExp][] = [
      ['GET', '/api/v1/jobs?state=failed&since=yesterday', undefined, 400, /since/],
      ['GET', '/api/v1/jobs/order.nope', undefined, 404, 'job_not_found'],
      ['POST', '/api/v1/replays', { until: '2026-99-99' }, 400, /until/],
      ['POST', '/api/v1/replays', { task: 'order.sendConfirmation' }, 404, 'nothing_matched'],
      ['POST', '/api/v1/replays', { dryRun: 'yes' }, 400, /dryRun/],
      ['POST', '/api/v1/replays', [1, 2], 400, /JSON object/],
      ['POST', '/api/v1/schedules/cart-purg/pause', {}, 404, /did you mean "cart-purge"/],
      ['PUT', '/api/v1/queues/order/limits', { concurrency: 0 }, 400, /concurrency/],
      ['PUT', '/api/v1/queues/order/limits', { rateLimit: { max: -1, durationMs: 1000 } }, 400, /rateLimit/],
      ['POST', '/api/v1/queues/ordr/pause', {}, 404, /did you mean "order"/],
      ['GET', '/api/v1/audit?limit=0', undefined, 400, /limit/],
    ];
    for (const [method, path, body, status, expected] of cases) {
      const res = await json(await dash.request(method, path, { as: bearer('root'), ...(body !== undefined ? { json: body } : {}) }));
      expect(res.status, `${method} ${path}`).toBe(status);
      const text = `${res.body.error?.code} ${res.body.error?.message}`;
      if (typeof expected === 'string') expect(res.body.error?.code, path).toBe(expected);
      else expect(text, path).toMatch(expected);
    }
    expect(await audit()).toEqual([]);
    expect(await hub.rawQueue('order').getGlobalConcurrency()).toBeNull();
  });
});

describe('HUB_API_TOKENS: action scopes', () => {
  it('accepts the control scopes and suggests the nearest for a typo', () => {
    const t = token();
    const [c] = parseApiTokens(`ops:${t}:order,order:cancel,*:replay,product.reindex:cancel,schedules,queues,admin`);
    expect(c!.scopes).toEqual(['order', 'order:cancel', '*:replay', 'product.reindex:cancel', 'schedules', 'queues', 'admin']);
    expect(() => parseApiTokens(`ops:${t}:order:cancle`)).toThrow(/unknown scope "order:cancle" \(did you mean "order:cancel"\?\)/);
    expect(() => parseApiTokens(`ops:${t}:shop:replay`)).toThrow(/unknown scope "shop:replay"/);
  });
});
