import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../../src/control/errors.ts';
import { listJobs, parseJobsQuery } from '../../src/control/jobs.ts';
import { FAILURE_FIELD } from '../../src/core/failure-record.ts';
import { useTestHub } from '../helpers/test-hub.ts';
import { registryWithSlowTask, useControl } from './helpers.ts';

const hub = useTestHub({ worker: false });
const ctl = useControl(() => hub.prefix);

type Listed = { jobs: { id: string; task: string; errorClass: string; httpStatus?: number; finishedAt: number; boardUrl: string }[] };
const list = async (query: Record<string, string>) => (await listJobs(ctl.control, parseJobsQuery(query))) as unknown as Listed;

/** One attempt each (a plain client's option), so a 503 fails for good at once. */
const failOnce = async (status: number) => {
  const id = `order.${randomUUID()}`;
  await hub.rawQueue('order').add('order.generateInvoice', { orderId: randomUUID() }, { jobId: id, attempts: 1 });
  return id;
};

describe('dead letters: failed jobs by task, time, error class and HTTP status', () => {
  it('records class and status when a job fails for good, and filters on them', async () => {
    hub.services.order.reply('POST', '/api/orders/:id/invoice', 404, 503);
    await hub.startWorker(registryWithSlowTask());
    const notFound = await failOnce(404);
    await expect(hub.finished({ id: notFound, queue: 'order' })).rejects.toThrow(/404/);
    const unavailable = await failOnce(503);
    await expect(hub.finished({ id: unavailable, queue: 'order' })).rejects.toThrow(/503/);
    hub.services.order.reply('POST', '/api/stall', { status: 200, body: {}, delayMs: 1_000 });
    // A test-only task: the producer knows the shipped catalog only, so it goes in as a plain client's job.
    const stalled = { id: `order.${randomUUID()}`, queue: 'order' };
    await hub.rawQueue('order').add('ctl.stall', { ms: 1_000 }, { jobId: stalled.id, attempts: 1 });
    await expect(hub.finished(stalled)).rejects.toThrow(/timed out after 100 ms/);

    const key = (id: string) => hub.rawQueue('order').toKey(id);
    expect(await hub.redis.hget(key(notFound), FAILURE_FIELD)).toBe('permanent:404');
    expect(await hub.redis.hget(key(unavailable), FAILURE_FIELD)).toBe('retryable:503');
    expect(await hub.redis.hget(key(stalled.id), FAILURE_FIELD)).toBe('timeout');

    expect((await list({ state: 'failed', class: 'permanent' })).jobs.map((j) => j.id)).toEqual([notFound]);
    expect((await list({ state: 'failed', status: '503' })).jobs.map((j) => j.id)).toEqual([unavailable]);
    expect((await list({ class: 'timeout' })).jobs.map((j) => j.id)).toEqual([stalled.id]);
    const all = await list({ state: 'failed', task: 'order.generateInvoice' });
    // Newest first, each with its board link.
    expect(all.jobs.map((j) => j.id)).toEqual([unavailable, notFound]);
    expect(all.jobs[0]).toMatchObject({ errorClass: 'retryable', httpStatus: 503, boardUrl: `/queue/order/${unavailable}` });
  });

  it('a completed job carries no failure record (only failing jobs pay)', async () => {
    hub.services.order.reply('POST', '/api/orders/:id/invoice', { status: 200, body: { invoiceId: 'INV-1' } });
    await hub.startWorker();
    const job = await hub.producer.enqueue('order.generateInvoice', { orderId: randomUUID() });
    await hub.finished(job);
    expect(await hub.redis.hget(hub.rawQueue('order').toKey(job.id), FAILURE_FIELD)).toBeNull();
  });

  it('filters by time window: since and until, as ISO dates or epoch ms', async () => {
    hub.services.order.reply('POST', '/api/orders/:id/invoice', 404);
    await hub.startWorker();
    const first = await failOnce(404);
    await expect(hub.finished({ id: first, queue: 'order' })).rejects.toThrow();
    const firstAt = (await list({ state: 'failed' })).jobs[0]!.finishedAt;
    const second = await failOnce(404);
    await expect(hub.finished({ id: second, queue: 'order' })).rejects.toThrow();
    const secondAt = (await list({ state: 'failed' })).jobs[0]!.finishedAt;

    expect((await list({ state: 'failed', until: String(firstAt) })).jobs.map((j) => j.id)).toEqual([first]);
    expect((await list({ state: 'failed', since: new Date(secondAt).toISOString() })).jobs.map((j) => j.id)).toEqual(secondAt > firstAt ? [second] : [second, first]);
    expect((await list({ state: 'failed', since: '2000-01-01', until: '2000-01-02' })).jobs).toEqual([]);
  });

  it('refuses malformed filters naming the field', () => {
    const refused = (q: Record<string, string>) => {
      try {
        parseJobsQuery(q);
      } catch (err) {
        expect(err).toBeInstanceOf(InvalidInputError);
        return (err as InvalidInputError).message;
      }
      throw new Error('accepted');
    };
    expect(refused({ state: 'failed', since: 'last tuesday' })).toMatch(/since/);
    expect(refused({ state: 'failed', until: '2026-13-45T99:00:00Z' })).toMatch(/until/);
    expect(refused({ state: 'failed', since: '2026-05-02', until: '2026-05-01' })).toMatch(/until is before since/);
    expect(refused({ state: 'failed', class: 'flaky' })).toMatch(/class/);
    expect(refused({ state: 'failed', status: '42' })).toMatch(/status/);
    expect(refused({ state: 'waiting', class: 'permanent', task: 'order.generateInvoice' })).toMatch(/state/);
    expect(refused({ state: 'failed', task: 'order.generateInvoce' })).toMatch(/did you mean "order.generateInvoice"/);
    expect(refused({})).toMatch(/give task and state/);
  });
});
