import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { readAudit } from '../../src/control/audit.ts';
import { InvalidInputError, NotFoundError } from '../../src/control/errors.ts';
import { describeQueue, listQueues, parseRate, pauseQueue, resumeQueue, setQueueLimits } from '../../src/control/queues.ts';
import { useTestHub } from '../helpers/test-hub.ts';
import { useControl } from './helpers.ts';

const hub = useTestHub();
const ctl = useControl(() => hub.prefix);

describe('queues at run time', () => {
  it('pause holds jobs in wait across every worker; resume lets them run; both audited', async () => {
    hub.services.order.reply('POST', '/api/orders/:id/invoice', { status: 201, body: { invoiceId: 'INV' } });
    expect(await pauseQueue(ctl.control, 'order', 'cli:ops')).toEqual({ name: 'order', paused: true, changed: true });
    expect(await hub.rawQueue('order').isPaused()).toBe(true);
    const job = await hub.producer.enqueue('order.generateInvoice', { orderId: randomUUID() });
    expect((await hub.producer.getJob(job))?.state).toBe('waiting');
    expect((await describeQueue(ctl.control, 'order')).paused).toBe(true);
    expect(await resumeQueue(ctl.control, 'order', 'cli:ops')).toMatchObject({ paused: false, changed: true });
    await expect(hub.finished(job)).resolves.toEqual({ invoiceId: 'INV' });
    expect((await readAudit(ctl.control.redis, hub.prefix)).map((e) => [e.who, e.action, e.target])).toEqual([
      ['cli:ops', 'queue.resume', 'order'],
      ['cli:ops', 'queue.pause', 'order'],
    ]);
  });

  it('sets and removes global concurrency and rate limit, shows them in the listing, audits before and after', async () => {
    const after = await setQueueLimits(ctl.control, 'cart', { concurrency: 3, rateLimit: { max: 10, durationMs: 1_000 } }, 'api:ops');
    expect(after).toMatchObject({ globalConcurrency: 3, globalRateLimit: { max: 10, durationMs: 1_000 }, configured: { concurrency: 20, rateLimit: { max: 50, durationMs: 1_000 } } });
    expect(await hub.rawQueue('cart').getGlobalConcurrency()).toBe(3);
    expect(await hub.rawQueue('cart').getGlobalRateLimit()).toEqual({ max: 10, duration: 1_000 });
    const listed = (await listQueues(ctl.control)).find((q) => q.name === 'cart');
    expect(listed).toMatchObject({ globalConcurrency: 3, globalRateLimit: { max: 10, durationMs: 1_000 } });
    // Only what is given changes; null removes.
    await setQueueLimits(ctl.control, 'cart', { concurrency: null }, 'api:ops');
    expect(await describeQueue(ctl.control, 'cart')).toMatchObject({ globalConcurrency: null, globalRateLimit: { max: 10 } });
    await setQueueLimits(ctl.control, 'cart', { rateLimit: null }, 'api:ops');
    expect(await hub.rawQueue('cart').getGlobalRateLimit()).toBeNull();
    const [latest, , first] = await readAudit(ctl.control.redis, hub.prefix);
    expect(first).toMatchObject({ who: 'api:ops', action: 'queue.limits', target: 'cart', detail: { before: { globalConcurrency: null }, after: { globalConcurrency: 3 } } });
    expect(latest!.detail).toMatchObject({ after: { globalRateLimit: null } });
  });

  it('the global concurrency holds: at most that many jobs run at once over the worker', async () => {
    await setQueueLimits(ctl.control, 'order', { concurrency: 2 }, 'api:ops');
    let running = 0;
    let peak = 0;
    hub.services.order.reply('POST', '/api/orders/:id/invoice', () => {
      peak = Math.max(peak, ++running);
      return { status: 201, body: { invoiceId: 'INV' }, delayMs: 50 };
    });
    hub.services.order.on('settled', () => running--);
    const jobs = await Promise.all(Array.from({ length: 8 }, () => hub.producer.enqueue('order.generateInvoice', { orderId: randomUUID() })));
    for (const j of jobs) await hub.finished(j);
    expect(peak).toBe(2);
  });

  it('refuses zero, negative and unknown, naming the field, and changes nothing', async () => {
    const refused = async (input: unknown) => {
      const err = await setQueueLimits(ctl.control, 'order', input, 'api:ops').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(InvalidInputError);
      return (err as Error).message;
    };
    expect(await refused({ concurrency: 0 })).toMatch(/concurrency/);
    expect(await refused({ concurrency: -4 })).toMatch(/concurrency/);
    expect(await refused({ rateLimit: { max: 0, durationMs: 1_000 } })).toMatch(/rateLimit\.max/);
    expect(await refused({ rateLimit: { max: 5, durationMs: -1 } })).toMatch(/rateLimit\.durationMs/);
    expect(await refused({})).toMatch(/give concurrency/);
    expect(await refused({ concurrency: 2, burst: 3 })).toMatch(/burst/);
    await expect(setQueueLimits(ctl.control, 'ordr', { concurrency: 2 }, 'api:ops')).rejects.toThrow(NotFoundError);
    await expect(pauseQueue(ctl.control, 'ordr', 'api:ops')).rejects.toThrow(/unknown queue "ordr" \(did you mean "order"\?\)/);
    expect(() => parseRate('fast')).toThrow(/<max>\/<ms>/);
    expect(parseRate('100/1000')).toEqual({ max: 100, durationMs: 1_000 });
    expect(await hub.rawQueue('order').getGlobalConcurrency()).toBeNull();
    expect(await hub.rawQueue('order').isPaused()).toBe(false);
    expect(await readAudit(ctl.control.redis, hub.prefix)).toEqual([]);
  });
});
