import { describe, expect, it, vi } from 'vitest';
import { runBeat } from '../../src/beat/run-beat.ts';
import { ownedKey } from '../../src/beat/reconcile.ts';
import type { ScheduleEntry } from '../../src/contracts/schedule.ts';
import { formatIn } from '../../src/beat/next-runs-table.ts';
import { useTestHub } from '../helpers/test-hub.ts';
import { TICK_SCHEDULE, beatEnv, captureLog } from './helpers.ts';

const hub = useTestHub({ worker: false });

const purge: ScheduleEntry = { id: 'cart-purge', task: 'cart.purgeExpiredCarts', cron: '*/15 * * * *', payload: { olderThanHours: 72 } };
const reindex: ScheduleEntry = { id: 'product-reindex', task: 'product.reindex', cron: '0 3 * * *', tz: 'Europe/Berlin' };
const sessions: ScheduleEntry = { id: 'auth-sessions', task: 'auth.purgeExpiredSessions', everyMs: 3_600_000 };

/** `npm run beat -- --once` with these entries; resolves to its log lines. */
/** The runs column of an entry's row in a next-runs table. */
const runsOf = (printed: string, id: string): string[] => {
  const row = printed.split('\n').find((l) => l.startsWith(`${id} `));
  if (!row) throw new Error(`no row for ${id} in:\n${printed}`);
  return row.split(/ {2,}/).at(-1)!.split(', ');
};
const HOUR = 3_600_000;

const once = async (schedule: readonly ScheduleEntry[], extra: { dryRun?: boolean; print?: (t: string) => void } = {}) => {
  const { log, lines } = captureLog();
  await runBeat(beatEnv(hub.prefix), log, { schedule, once: !extra.dryRun, print: () => {}, ...extra });
  return lines;
};

describe('beat: reconcile', () => {
  it('creates one scheduler per entry on its task\'s queue, with the template the worker expects', async () => {
    await once([purge, reindex, sessions]);
    const s = await hub.rawQueue('product').getJobScheduler('product-reindex');
    expect(s).toMatchObject({ name: 'product.reindex', pattern: '0 3 * * *', tz: 'Europe/Berlin' });
    expect(s?.template?.data).toEqual({ $hub: { schedule: 'product-reindex', service: 'beat' } });
    const c = await hub.rawQueue('cart').getJobScheduler('cart-purge');
    expect(c?.template?.data).toEqual({ olderThanHours: 72, $hub: { schedule: 'cart-purge', service: 'beat' } });
    expect(c?.template?.opts).toMatchObject({ attempts: 5, backoff: { type: 'exponential', delay: 1_000 } });
    expect(await hub.rawQueue('auth').getJobScheduler('auth-sessions')).toMatchObject({ every: 3_600_000 });
  });

  it('changes nothing when nothing changed: the pending jobs stay the same', async () => {
    await once([purge, sessions]);
    const before = await hub.rawQueue('cart').getDelayed();
    const lines = await once([purge, sessions]);
    expect(lines.all.filter((l) => l.includes('"action"'))).toEqual([]);
    expect((await hub.rawQueue('cart').getDelayed()).map((j) => j.id)).toEqual(before.map((j) => j.id));
  });

  it('updates a changed entry and logs what changed', async () => {
    await once([purge]);
    const lines = await once([{ ...purge, cron: '*/5 * * * *', payload: { olderThanHours: 48 } }]);
    const updated = await lines.waitFor('scheduler updated: cart-purge');
    expect(updated).toContain('cron: \\"*/15 * * * *\\" -> \\"*/5 * * * *\\"');
    expect(updated).toContain('olderThanHours');
    expect(await hub.rawQueue('cart').getJobScheduler('cart-purge')).toMatchObject({ pattern: '*/5 * * * *' });
  });

  it('removing an entry removes its scheduler; a scheduler beat did not create is left alone', async () => {
    const cartQueue = hub.rawQueue('cart');
    await cartQueue.upsertJobScheduler('added-by-hand', { every: 60_000 }, { name: 'cart.purgeExpiredCarts', data: {} });
    await once([purge, reindex]);
    const lines = await once([reindex]);
    await lines.waitFor('scheduler removed: cart-purge');
    expect(await cartQueue.getJobScheduler('cart-purge')).toBeUndefined();
    expect((await cartQueue.getJobs(['wait', 'delayed'])).map((j) => j.repeatJobKey)).toEqual(['added-by-hand']);
    expect(await cartQueue.getJobScheduler('added-by-hand')).toMatchObject({ every: 60_000 });
    expect(await hub.redis.smembers(ownedKey(hub.prefix, 'cart'))).toEqual([]);
  });

  it('refuses to take over a foreign scheduler with the same id: --once fails naming it', async () => {
    const cartQueue = hub.rawQueue('cart');
    await cartQueue.upsertJobScheduler('cart-purge', { every: 60_000 }, { name: 'cart.purgeExpiredCarts', data: {} });
    await expect(once([purge])).rejects.toThrow(/cart-purge.*that beat did not create exists on queue cart/);
    expect(await cartQueue.getJobScheduler('cart-purge')).toMatchObject({ every: 60_000 });
  });

  it('recognises its own schedulers by their template even if the owned set is lost', async () => {
    await once([purge]);
    await hub.redis.del(ownedKey(hub.prefix, 'cart'));
    const lines = await once([{ ...purge, payload: { olderThanHours: 48 } }]);
    await lines.waitFor('scheduler updated: cart-purge');
    expect(await hub.redis.smembers(ownedKey(hub.prefix, 'cart'))).toEqual(['cart-purge']);
  });

  it('--dry-run prints the plan and changes nothing', async () => {
    let printed = '';
    await once([purge], { dryRun: true, print: (t) => (printed += t) });
    expect(printed).toContain('would apply 1 change(s)');
    expect(printed).toMatch(/create\s+cart-purge \(queue cart\)/);
    expect(printed).toMatch(/cart-purge\s+cart.purgeExpiredCarts\s+\*\/15 \* \* \* \*\s+UTC/);
    expect(await hub.rawQueue('cart').getJobSchedulersCount()).toBe(0);
  });

  it('--dry-run names the file it read (BEAT_SCHEDULE), and so does --once when an entry is not applied', async () => {
    const env = beatEnv(hub.prefix, { BEAT_SCHEDULE: TICK_SCHEDULE });
    await runBeat(env, captureLog().log, { once: true, print: () => {} });
    let printed = '';
    await runBeat(env, captureLog().log, { dryRun: true, print: (t) => (printed += t) });
    expect(printed).toContain('dry run: Redis already matches test/beat/fixtures/tick-schedule.ts\n');

    await hub.rawQueue('cart').removeJobScheduler('tick');
    await hub.redis.del(ownedKey(hub.prefix, 'cart'));
    await hub.rawQueue('cart').upsertJobScheduler('tick', { every: 60_000 }, { name: 'cart.purgeExpiredCarts', data: {} });
    await expect(runBeat(env, captureLog().log, { once: true, print: () => {} })).rejects.toThrow(/^beat --once: 1 entry of test\/beat\/fixtures\/tick-schedule\.ts not applied:/);
  });

  it('--dry-run shows the first run BullMQ really gives an interval entry, checked against what the upsert then does', async () => {
    const auth = hub.rawQueue('auth');
    const dryRuns = async (entry: ScheduleEntry) => {
      let printed = '';
      await once([entry], { dryRun: true, print: (t) => (printed += t) });
      return runsOf(printed, entry.id);
    };
    const nextInRedis = async () => (await auth.getJobScheduler('auth-sessions'))!.next!;

    // A new scheduler: BullMQ creates its first job due at once, then counts the interval from there.
    let before = Date.now();
    let runs = await dryRuns(sessions);
    expect(runs[0]).toBe('now');
    expect([formatIn('UTC', before + HOUR), formatIn('UTC', Date.now() + HOUR)]).toContain(runs[1]);
    before = Date.now();
    await once([sessions]);
    const created = await nextInRedis();
    expect(created).toBeGreaterThanOrEqual(before);
    expect(created).toBeLessThanOrEqual(Date.now());
    expect(await auth.getJobState(`repeat:auth-sessions:${created}`)).toBe('waiting');

    // The same interval with another payload: the pending job is replaced at its own time.
    const payload = { ...sessions, payload: { olderThanHours: 48 } };
    runs = await dryRuns(payload);
    expect(runs).toEqual([created, created + HOUR, created + 2 * HOUR].map((ms) => formatIn('UTC', ms)));
    await once([payload]);
    expect(await nextInRedis()).toBe(created);

    // Another interval: BullMQ restarts the count, and the scheduler fires at once again.
    const twoHours = { ...payload, everyMs: 2 * HOUR };
    runs = await dryRuns(twoHours);
    expect(runs[0]).toBe('now');
    before = Date.now();
    await once([twoHours]);
    const restarted = await nextInRedis();
    expect(restarted).toBeGreaterThanOrEqual(before);
    expect(restarted).toBeLessThanOrEqual(Date.now());

    // Its pending job lost: the restore goes on one interval after the run it lost.
    const lost = `repeat:auth-sessions:${restarted}`;
    await hub.redis.del(auth.toKey(lost));
    await hub.redis.lrem(auth.toKey('wait'), 0, lost);
    runs = await dryRuns(twoHours);
    expect(runs[0]).toBe(formatIn('UTC', restarted + 2 * HOUR));
    await once([twoHours]);
    expect(await nextInRedis()).toBe(restarted + 2 * HOUR);

    // Lost more than an interval ago: the next multiple of the interval (BullMQ's clock is Date.now()).
    const lostAgain = `repeat:auth-sessions:${restarted + 2 * HOUR}`;
    await hub.redis.del(auth.toKey(lostAgain));
    await hub.redis.zrem(auth.toKey('delayed'), lostAgain);
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      vi.setSystemTime(restarted + 5 * HOUR);
      const slot = Math.floor(Date.now() / (2 * HOUR)) * 2 * HOUR + 2 * HOUR;
      runs = await dryRuns(twoHours);
      expect(runs[0]).toBe(formatIn('UTC', slot));
      await once([twoHours]);
      expect(await nextInRedis()).toBe(slot);
    } finally {
      vi.useRealTimers();
    }
  });

  it('the periodic round restores a scheduler deleted or edited by hand (say from the dashboard)', async () => {
    const { log, lines } = captureLog();
    const beat = await runBeat(beatEnv(hub.prefix), log, { schedule: [purge, reindex], reconcileMs: 100, print: () => {} });
    try {
      const cartQueue = hub.rawQueue('cart');
      await cartQueue.removeJobScheduler('cart-purge');
      await lines.waitFor('scheduler restored: cart-purge');
      expect(await cartQueue.getJobScheduler('cart-purge')).toMatchObject({ pattern: '*/15 * * * *' });

      await hub.rawQueue('product').upsertJobScheduler('product-reindex', { pattern: '0 4 * * *' }, { name: 'product.reindex', data: {} });
      await lines.waitFor('scheduler updated: product-reindex');
      expect(await hub.rawQueue('product').getJobScheduler('product-reindex')).toMatchObject({ pattern: '0 3 * * *', tz: 'Europe/Berlin' });

      // A scheduler whose pending job is lost (BullMQ refuses to remove it, a raw DEL does not) would never fire again.
      const productQueue = hub.rawQueue('product');
      const [pending] = await productQueue.getDelayed();
      await hub.redis.del(productQueue.toKey(pending!.id!));
      await hub.redis.zrem(productQueue.toKey('delayed'), pending!.id!);
      await lines.waitFor(/scheduler restored: product-reindex/);
      expect(await hub.rawQueue('product').getDelayed()).toHaveLength(1);
    } finally {
      await beat.stop();
    }
  });
});
