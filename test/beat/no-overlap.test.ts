import { describe, expect, it } from 'vitest';
import { planEntries } from '../../src/beat/plan-entries.ts';
import { metaOf, noOverlapScheduleOf } from '../../src/core/job-meta.ts';
import { runningKey, withoutOverlap } from '../../src/core/no-overlap.ts';
import { useTestHub } from '../helpers/test-hub.ts';

const hub = useTestHub({ worker: false });

describe('beat: the per-entry no-overlap guard', () => {
  it('an entry with noOverlap marks its jobs; others do not', () => {
    const [guarded, free] = planEntries([
      { id: 'reindex', task: 'product.reindex', cron: '0 3 * * *', noOverlap: true },
      { id: 'purge', task: 'cart.purgeExpiredCarts', cron: '0 * * * *' },
    ]);
    expect(noOverlapScheduleOf(metaOf(guarded!.data))).toBe('reindex');
    expect(noOverlapScheduleOf(metaOf(free!.data))).toBeUndefined();
  });

  it('a tick that finds the previous run still going is skipped; a retry of the same job is not', async () => {
    const key = runningKey(hub.prefix, 'product', 'reindex');
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const first = withoutOverlap(hub.redis, key, 'repeat:reindex:1', 10_000, async () => (await held, 'first'));
    await expect.poll(() => hub.redis.get(key)).toBe('repeat:reindex:1');

    await expect(withoutOverlap(hub.redis, key, 'repeat:reindex:2', 10_000, async () => 'second')).resolves.toEqual({
      skipped: 'overlap',
      runningJob: 'repeat:reindex:1',
    });
    await expect(withoutOverlap(hub.redis, key, 'repeat:reindex:1', 10_000, async () => 'retry')).resolves.toBe('retry');

    release();
    await expect(first).resolves.toBe('first');
    expect(await hub.redis.exists(key)).toBe(0);
    await expect(withoutOverlap(hub.redis, key, 'repeat:reindex:3', 10_000, async () => 'third')).resolves.toBe('third');
  });

  it('the lock expires by itself, so a crashed worker cannot block an entry for longer than its TTL', async () => {
    const key = runningKey(hub.prefix, 'product', 'reindex');
    await hub.redis.set(key, 'repeat:reindex:crashed', 'PX', 50);
    await expect.poll(() => hub.redis.exists(key)).toBe(0);
    await expect(withoutOverlap(hub.redis, key, 'repeat:reindex:4', 10_000, async () => 'ran')).resolves.toBe('ran');
  });
});
