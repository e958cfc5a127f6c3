import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { loadEnv } from '../../src/config/env.ts';
import { createLogger } from '../../src/core/logger.ts';
import { runBeat } from '../../src/beat/run-beat.ts';
import { useTestHub, testRedisUrl } from '../helpers/test-hub.ts';
import { useDashboard } from './dashboard-harness.ts';

/** Every board write that carries input is checked before BullMQ sees it, like the API's. */
const hub = useTestHub({ worker: false });
const dash = useDashboard(() => hub.prefix);
const messageOf = async (res: Response) => JSON.stringify(await res.json());

describe('editing a job\'s data in the board', () => {
  const stored = async (id: string) => (await hub.rawQueue('order').getJob(id))!.data as Record<string, unknown>;
  const edit = (id: string, jobData: unknown) => dash.request('PATCH', `/api/queues/order/${id}/update-data`, { as: 'admin', json: { jobData } });

  it.each([
    ['an array', [1, 2, 3]],
    ['a string', 'x'],
    ['null', null],
    ['a number', 42],
  ])('refuses %s with 400 and keeps the job as it was', async (_, jobData) => {
    const job = await hub.producer.enqueue('order.generateInvoice', { orderId: randomUUID() }, { requestId: 'req-edit-1' });
    const before = await stored(job.id);
    const res = await edit(job.id, jobData);
    expect(res.status).toBe(400);
    expect(await messageOf(res)).toMatch(/jobData must be a JSON object/);
    expect(await stored(job.id)).toEqual(before);
  });

  it('keeps the hub metadata when the edit leaves it out, and refuses an edit of it', async () => {
    const job = await hub.producer.enqueue('order.generateInvoice', { orderId: randomUUID() }, { requestId: 'req-edit-2' });
    const before = await stored(job.id);
    expect(before.$hub).toMatchObject({ requestId: 'req-edit-2' });
    const orderId = randomUUID();

    const forged = await edit(job.id, { ...before, orderId, $hub: { requestId: 'forged', service: 'someone-else' } });
    expect(forged.status).toBe(400);
    expect(await messageOf(forged)).toMatch(/\$hub/);
    expect(await stored(job.id)).toEqual(before);

    expect((await edit(job.id, { orderId })).status).toBe(200);
    expect(await stored(job.id)).toEqual({ ...before, orderId });
    // As the board shows it ($hub included, unchanged) is fine too.
    expect((await edit(job.id, { ...before, orderId: before.orderId })).status).toBe(200);
    expect(await stored(job.id)).toEqual(before);
  });
});

describe('adding a job from the board', () => {
  const add = (options: unknown) =>
    dash.request('POST', '/api/queues/order/add', { as: 'admin', json: { name: 'order.generateInvoice', data: { orderId: randomUUID() }, options } });

  it.each([
    ['a priority over BullMQ\'s limit', { priority: 2147483648 }, /options\.priority/],
    ['a negative priority', { priority: -1 }, /options\.priority/],
    ['a fractional priority', { priority: 1.5 }, /options\.priority/],
    ['a negative delay', { delay: -5000 }, /options\.delay/],
    ['a delay that is not a number', { delay: 'soon' }, /options\.delay/],
    ['a delay past a year', { delay: 1e15 }, /options\.delay/],
  ])('refuses %s with 400 naming the option, adding nothing', async (_, options, message) => {
    const res = await add(options);
    expect(res.status).toBe(400);
    expect(await messageOf(res)).toMatch(message);
    expect(await hub.rawQueue('order').count()).toBe(0);
  });

  it('adds a job with a valid delay and priority', async () => {
    const res = await add({ delay: 60_000, priority: 7 });
    expect(res.status).toBe(200);
    const { job } = (await res.json()) as { job: { id: string } };
    const stored = (await hub.rawQueue('order').getJob(job.id))!;
    expect(stored.opts).toMatchObject({ delay: 60_000, priority: 7 });
    expect(await stored.getState()).toBe('delayed');
  });
});

describe('the other board writes', () => {
  it('cleans only the states the board offers, refusing any other name before BullMQ sees it', async () => {
    const job = await hub.producer.enqueue('order.generateInvoice', { orderId: randomUUID() });
    for (const status of ['wait', 'active', 'meta', 'events', 'foo']) {
      const res = await dash.request('PUT', `/api/queues/order/clean/${status}`, { as: 'admin' });
      expect(res.status, status).toBe(400);
      expect(await messageOf(res)).toMatch(/completed, failed or delayed/);
    }
    expect(await hub.rawQueue('order').getJobState(job.id)).toBe('waiting');
    expect((await dash.request('PUT', '/api/queues/order/clean/completed', { as: 'admin' })).status).toBe(200);
  });

  it('refuses to move a delayed job further out than a year', async () => {
    const job = await hub.producer.enqueue('order.generateInvoice', { orderId: randomUUID() }, { delayMs: 60_000 });
    const res = await dash.request('PATCH', `/api/queues/order/${job.id}/delay`, { as: 'admin', json: { runAt: Date.now() + 2 * 365 * 86_400_000 } });
    expect(res.status).toBe(400);
    expect(await messageOf(res)).toMatch(/runAt/);
    expect((await hub.rawQueue('order').getJob(job.id))!.delay).toBe(60_000);
    const ok = await dash.request('PATCH', `/api/queues/order/${job.id}/delay`, { as: 'admin', json: { runAt: Date.now() + 120_000 } });
    expect(ok.status).toBe(200);
  });

  it('leaves schedule.ts\'s schedulers to beat: no edit or removal from the board', async () => {
    const log = createLogger({ name: 'beat', level: 'silent' });
    const env = loadEnv({ NODE_ENV: 'test', REDIS_URL: testRedisUrl(), HUB_PREFIX: hub.prefix });
    const beat = await runBeat(env, log, { schedule: [{ id: 'purge', task: 'cart.purgeExpiredCarts', everyMs: 60_000 }], once: true, print: () => {} });
    await beat.stop();
    const queue = hub.rawQueue('cart');
    const before = await queue.getJobScheduler('purge');
    expect(before?.every).toBe(60_000);

    const edited = await dash.request('PATCH', '/api/queues/cart/job-schedulers/purge', { as: 'admin', json: { every: 1 } });
    expect(edited.status).toBe(400);
    expect(await messageOf(edited)).toMatch(/schedule\.ts/);
    const removed = await dash.request('PUT', '/api/queues/cart/job-schedulers/purge/remove', { as: 'admin' });
    expect(removed.status).toBe(400);
    expect(await queue.getJobScheduler('purge')).toEqual(before);

    // Running it once now is fine: the job is the scheduler's own template.
    expect((await dash.request('PUT', '/api/queues/cart/job-schedulers/purge/run', { as: 'admin' })).status).toBe(200);
  });

  it('holds a scheduler beat does not own to beat\'s interval rule (whole seconds)', async () => {
    const queue = hub.rawQueue('cart');
    await queue.upsertJobScheduler('by-hand', { every: 60_000 }, { name: 'cart.purgeExpiredCarts', data: {} });
    const patch = (json: unknown) => dash.request('PATCH', '/api/queues/cart/job-schedulers/by-hand', { as: 'admin', json });
    const tiny = await patch({ every: 1 });
    expect(tiny.status).toBe(400);
    expect(await messageOf(tiny)).toMatch(/every must be a whole number of milliseconds, at least 1000/);
    // BullMQ itself refuses an unknown time zone.
    expect((await patch({ pattern: '0 * * * *', tz: 'Mars/Olympus_Mons' })).status).toBe(400);
    expect((await queue.getJobScheduler('by-hand'))?.every).toBe(60_000);
    expect((await patch({ pattern: '0 * * * *', tz: 'Europe/Berlin' })).status).toBe(204);
  });
});
