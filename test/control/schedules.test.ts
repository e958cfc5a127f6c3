import { describe, expect, it } from 'vitest';
import { runBeat } from '../../src/beat/run-beat.ts';
import { readAudit } from '../../src/control/audit.ts';
import { BusyError, NotFoundError } from '../../src/control/errors.ts';
import { pauseSchedule, resumeSchedule, triggerSchedule } from '../../src/control/schedule-actions.ts';
import { listSchedules } from '../../src/control/schedules.ts';
import type { ScheduleEntry } from '../../src/contracts/schedule.ts';
import { beatLockKey } from '../../src/core/schedule-state.ts';
import { beatEnv, captureLog } from '../beat/helpers.ts';
import { useTestHub } from '../helpers/test-hub.ts';
import { useControl } from './helpers.ts';

const hub = useTestHub();
const purge: ScheduleEntry = { id: 'cart-purge', task: 'cart.purgeExpiredCarts', everyMs: 3_600_000, payload: { olderThanHours: 72 } };
const reindex: ScheduleEntry = { id: 'product-reindex', task: 'product.reindex', cron: '0 3 * * *', tz: 'Europe/Berlin', noOverlap: true };
const schedule = [purge, reindex];
const ctl = useControl(() => hub.prefix, schedule, 500);

const beatOnce = async (extra: { dryRun?: boolean } = {}) => {
  let printed = '';
  const { log, lines } = captureLog();
  await runBeat(beatEnv(hub.prefix), log, { schedule, once: !extra.dryRun, ...extra, print: (t) => void (printed += t) });
  return { printed, lines };
};
const row = async (id: string) => (await listSchedules(ctl.control)).find((s) => s.id === id)!;

describe('schedules from the control surface', () => {
  it('lists every entry with its next run, and its last run and outcome once a run finished', async () => {
    hub.services.cart.reply('POST', '/api/carts/purge-expired', { status: 200, body: { purged: 3 } });
    await beatOnce();
    const listed = await listSchedules(ctl.control);
    expect(listed.map((s) => s.id)).toEqual(['cart-purge', 'product-reindex']);
    expect(listed[1]).toMatchObject({ task: 'product.reindex', queue: 'product', cron: '0 3 * * *', tz: 'Europe/Berlin', paused: false, scheduled: true });
    expect(listed[1]!.nextRunAt).toBeGreaterThan(Date.now());
    // The interval entry fired as beat created it; its run is recorded when it finishes.
    const first = (await hub.rawQueue('cart').getJobs(['wait', 'active', 'completed', 'delayed'])).find((j) => j.id?.startsWith('repeat:cart-purge:'))!;
    await hub.finished({ id: first.id!, queue: 'cart' });
    expect((await row('cart-purge')).lastRun).toMatchObject({ jobId: first.id, outcome: 'completed', attempt: 1 });
  });

  it('pause keeps the scheduler away however often beat reconciles; resume restores it at once', async () => {
    await beatOnce();
    const cart = hub.rawQueue('cart');
    const change = await pauseSchedule(ctl.control, 'cart-purge', 'cli:tester');
    expect(change).toEqual({ id: 'cart-purge', paused: true, changed: true });
    expect(await cart.getJobScheduler('cart-purge')).toBeUndefined();
    expect(await row('cart-purge')).toMatchObject({ paused: true, scheduled: false });

    // A long-running beat, reconciling again and again, and a restarted one: neither brings it back.
    const { log, lines } = captureLog();
    const beat = await runBeat(beatEnv(hub.prefix), log, { schedule, reconcileMs: 100_000, print: () => {} });
    try {
      for (let i = 0; i < 3; i++) expect((await beat.reconcile()).locked).toBe(true);
    } finally {
      await beat.stop();
    }
    await beatOnce();
    expect(await cart.getJobScheduler('cart-purge')).toBeUndefined();
    expect(lines.all.join('\n')).not.toMatch(/scheduler (created|restored): cart-purge/);
    // --dry-run says so.
    const { printed } = await beatOnce({ dryRun: true });
    expect(printed).toMatch(/cart-purge .*paused/);

    expect(await pauseSchedule(ctl.control, 'cart-purge', 'cli:tester')).toMatchObject({ changed: false });
    expect(await resumeSchedule(ctl.control, 'cart-purge', 'cli:tester')).toEqual({ id: 'cart-purge', paused: false, changed: true });
    expect(await cart.getJobScheduler('cart-purge')).toMatchObject({ every: 3_600_000 });
    expect(await row('cart-purge')).toMatchObject({ paused: false, scheduled: true });
    const actions = (await readAudit(ctl.control.redis, hub.prefix)).map((e) => [e.who, e.action, e.target]);
    expect(actions).toEqual([
      ['cli:tester', 'schedule.resume', 'cart-purge'],
      ['cli:tester', 'schedule.pause', 'cart-purge'],
      ['cli:tester', 'schedule.pause', 'cart-purge'],
    ]);
  });

  it('a pause that finds beat reconciling waits for it, and gives up with nothing changed if beat holds on', async () => {
    await hub.redis.set(beatLockKey(hub.prefix), 'another-beat', 'PX', 60_000);
    await expect(pauseSchedule(ctl.control, 'cart-purge', 'cli:tester')).rejects.toBeInstanceOf(BusyError);
    expect((await row('cart-purge')).paused).toBe(false);
    expect(await readAudit(ctl.control.redis, hub.prefix)).toEqual([]);
  });

  it('trigger runs the entry once now; the same request id again adds nothing', async () => {
    hub.services.product.reply('POST', '/api/products/reindex', { status: 200, body: { indexed: 1 } });
    const t = await triggerSchedule(ctl.control, 'product-reindex', { who: 'api:ops', requestId: 'click-1' });
    expect(t).toMatchObject({ schedule: 'product-reindex', task: 'product.reindex', queue: 'product', duplicate: false });
    const again = await triggerSchedule(ctl.control, 'product-reindex', { who: 'api:ops', requestId: 'click-1' });
    expect(again).toMatchObject({ jobId: t.jobId, duplicate: true });
    const other = await triggerSchedule(ctl.control, 'product-reindex', { who: 'api:ops', requestId: 'click-2' });
    expect(other.jobId).not.toBe(t.jobId);
    await hub.finished({ id: t.jobId, queue: 'product' });
    const job = await hub.rawQueue('product').getJob(t.jobId);
    expect(job?.data).toMatchObject({ $hub: { schedule: 'product-reindex', noOverlap: true, requestId: 'click-1', service: 'api:ops' } });
    await hub.finished({ id: other.jobId, queue: 'product' });
    expect((await row('product-reindex')).lastRun).toMatchObject({ jobId: other.jobId, outcome: 'completed' });
    expect(hub.services.product.requests.filter((r) => r.path === '/api/products/reindex')).toHaveLength(2);
    expect((await readAudit(ctl.control.redis, hub.prefix)).map((e) => e.outcome)).toEqual(['ok', 'duplicate', 'ok']);
  });

  it('an unknown schedule is 404 with a suggestion, and nothing changes', async () => {
    await expect(pauseSchedule(ctl.control, 'cart-purg', 'cli:tester')).rejects.toThrow(NotFoundError);
    await expect(triggerSchedule(ctl.control, 'cart-purg', { who: 'cli:tester' })).rejects.toThrow(/unknown schedule "cart-purg" \(did you mean "cart-purge"\?\)/);
    expect(await readAudit(ctl.control.redis, hub.prefix)).toEqual([]);
    // The worker's own bookkeeping only: no paused set, no job, no audit stream.
    expect((await hub.keys()).filter((k) => !/:(meta|stalled-check)$/.test(k))).toEqual([]);
  });
});
