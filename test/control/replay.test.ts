import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { readAudit } from '../../src/control/audit.ts';
import { InvalidInputError, NothingMatchedError } from '../../src/control/errors.ts';
import { FailedFilter, parseInput } from '../../src/control/failed-filter.ts';
import { readFailed } from '../../src/control/failed-jobs.ts';
import { claimCommand, replay, retryFailure } from '../../src/control/replay.ts';
import type { RecordedRequest } from '../helpers/stub-service.ts';
import { useTestHub } from '../helpers/test-hub.ts';
import { useControl } from './helpers.ts';

const hub = useTestHub();
const ctl = useControl(() => hub.prefix);
const filter = (f: Record<string, unknown>) => parseInput(FailedFilter, f, 'filter');

/** Invoice calls per order id: how often each job reached the service. */
const callsPer = (requests: readonly RecordedRequest[]) => {
  const calls = new Map<string, number>();
  for (const r of requests) if (r.path.endsWith('/invoice')) calls.set(r.path, (calls.get(r.path) ?? 0) + 1);
  return calls;
};

/** `n` invoice jobs that fail for good (404: permanent, one attempt). */
const failedInvoices = async (n: number) => {
  hub.services.order.reply('POST', '/api/orders/:id/invoice', 404);
  const jobs = await Promise.all(Array.from({ length: n }, () => hub.producer.enqueue('order.generateInvoice', { orderId: randomUUID() })));
  for (const j of jobs) await expect(hub.finished(j)).rejects.toThrow(/404/);
  return jobs;
};

describe('replay', () => {
  it('retries every matching failed job once, with a fresh attempt budget, and audits it', async () => {
    const jobs = await failedInvoices(5);
    hub.services.order.reply('POST', '/api/orders/:id/invoice', { status: 201, body: { invoiceId: 'INV' } });
    const r = await replay(ctl.control, filter({ task: 'order.generateInvoice', class: 'permanent', status: 404 }), { who: 'cli:tester' });
    expect(r).toMatchObject({ dryRun: false, matched: 5, retried: 5, skipped: 0 });
    for (const j of jobs) await expect(hub.finished(j)).resolves.toEqual({ invoiceId: 'INV' });
    // The attempt that succeeded is the first of a fresh budget.
    for (const j of jobs) expect(await hub.attemptsMade(j)).toBe(1);
    expect([...callsPer(hub.services.order.requests).values()]).toEqual([2, 2, 2, 2, 2]);
    const [entry] = await readAudit(ctl.control.redis, hub.prefix);
    expect(entry).toMatchObject({ who: 'cli:tester', action: 'replay', target: 'order.generateInvoice', outcome: 'ok' });
    expect(entry!.detail).toMatchObject({ matched: 5, retried: 5, filter: { task: 'order.generateInvoice', class: 'permanent', status: 404 } });
  });

  it('a dry run counts and samples, and changes nothing (no audit entry either)', async () => {
    const jobs = await failedInvoices(3);
    const r = await replay(ctl.control, filter({ class: 'permanent' }), { who: 'cli:tester', dryRun: true, sampleSize: 2 });
    expect(r).toMatchObject({ dryRun: true, matched: 3, retried: 0 });
    expect(r.sample).toHaveLength(2);
    expect(r.sample[0]).toMatchObject({ task: 'order.generateInvoice', errorClass: 'permanent', httpStatus: 404 });
    for (const j of jobs) expect((await hub.producer.getJob(j))?.state).toBe('failed');
    expect(await readAudit(ctl.control.redis, hub.prefix)).toEqual([]);
  });

  it('two replays at the same time retry each job once between them', async () => {
    const jobs = await failedInvoices(40);
    hub.services.order.reply('POST', '/api/orders/:id/invoice', { status: 201, body: { invoiceId: 'INV' } });
    const [a, b] = await Promise.all([
      replay(ctl.control, filter({ task: 'order.generateInvoice' }), { who: 'api:a', batch: 7 }),
      replay(ctl.control, filter({ task: 'order.generateInvoice' }), { who: 'api:b', batch: 5 }),
    ]);
    expect(a.retried + b.retried).toBe(40);
    for (const j of jobs) await expect(hub.finished(j)).resolves.toEqual({ invoiceId: 'INV' });
    const calls = callsPer(hub.services.order.requests);
    expect(calls.size).toBe(40);
    expect([...calls.values()].every((n) => n === 2)).toBe(true);
  });

  it('two replays at the same time, the jobs failing again at once: still one retry per failure read', async () => {
    const jobs = await failedInvoices(60);
    // The service still refuses: each retried job fails again within milliseconds, while the
    // other replay may still hold its earlier read of that job.
    const [a, b] = await Promise.all([
      replay(ctl.control, filter({ task: 'order.generateInvoice' }), { who: 'api:a', batch: 3 }),
      replay(ctl.control, filter({ task: 'order.generateInvoice' }), { who: 'api:b', batch: 3 }),
    ]);
    expect(a.retried + b.retried).toBe(60);
    for (const j of jobs) await expect(hub.finished(j)).rejects.toThrow(/404/);
    expect([...callsPer(hub.services.order.requests).values()].filter((n) => n !== 2)).toEqual([]);
  });

  it('a replay that read a failure which ran again and failed anew does not retry the new failure', async () => {
    const [job] = await failedInvoices(1);
    const queue = hub.rawQueue('order');
    const [score] = (await hub.redis.zrange(queue.toKey('failed'), '0', '0', 'WITHSCORES')).slice(1);
    const [read] = await readFailed(hub.redis, queue, [{ id: job!.id, score: score! }]);
    const redis = claimCommand(ctl.control.redis);
    // Another replay retries it; it runs and fails again (later finish time).
    expect(await retryFailure(redis, queue, read!, score!)).toBe(true);
    await expect(hub.finished(job!)).rejects.toThrow(/404/);
    // The stale read still names the first failure: no second retry.
    expect(await retryFailure(redis, queue, read!, score!)).toBe(false);
    const info = await hub.producer.getJob(job!);
    expect(info?.state).toBe('failed');
    expect(callsPer(hub.services.order.requests).get(`/api/orders/${(info!.payload as { orderId: string }).orderId}/invoice`)).toBe(2);
  });

  it('refuses a filter that matches nothing, and bad input, changing nothing', async () => {
    await failedInvoices(1);
    await expect(replay(ctl.control, filter({ task: 'order.sendConfirmation' }), { who: 'cli:tester' })).rejects.toBeInstanceOf(NothingMatchedError);
    await expect(replay(ctl.control, filter({ class: 'timeout' }), { who: 'cli:tester', dryRun: true })).rejects.toThrow(/no failed job matches/);
    expect(() => filter({ since: 'soon' })).toThrow(InvalidInputError);
    expect(() => filter({ task: 'order.nope' })).toThrow(/unknown task/);
    expect(await readAudit(ctl.control.redis, hub.prefix)).toEqual([]);
    expect(await hub.redis.zcard(hub.rawQueue('order').toKey('failed'))).toBe(1);
  });
});
