import { describe, expect, it } from 'vitest';
import { queuePrefix } from '../src/core/keys.ts';
import { useTestHub } from './helpers/test-hub.ts';

const hub = useTestHub({ worker: false });

describe('a worker starting on a backlog', () => {
  it('takes no job before it is ready: the cancel channel is subscribed and listeners added on return see every completion', async () => {
    const backlog = 300;
    await hub.producer.enqueueMany(Array.from({ length: backlog }, (_, i) => ({ task: 'order.summarizeResults' as const, payload: { label: `j${i}`, results: [] } })));
    const workers = await hub.startWorker();
    // Nothing was taken while the worker was still subscribing (a cancel sent then would have gone unheard).
    // Asked at once on a connection already up: a job taken before this returned would show.
    const key = (list: string) => `${queuePrefix(hub.prefix, 'order')}:order:${list}`;
    expect(await Promise.all([hub.redis.llen(key('active')), hub.redis.zcard(key('completed'))])).toEqual([0, 0]);
    expect(hub.outcomes).toHaveLength(0);
    const order = workers.workers.find((w) => w.name === 'order')!;
    let seen = 0;
    const all = new Promise<void>((resolve) => order.on('completed', () => ++seen === backlog && resolve()));
    await all;
    expect(seen).toBe(backlog);
  });
});
