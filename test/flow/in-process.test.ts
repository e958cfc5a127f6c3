import { Redis } from 'ioredis';
import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { catalog, catalogOf, domain, task } from '../../src/contracts/index.ts';
import { BackPressureError } from '../../src/core/flow/back-pressure.ts';
import type { FlowConfig } from '../../src/core/flow/limits.ts';
import { retryAfterMs } from '../../src/core/flow/retry-after.ts';
import { ServiceGate } from '../../src/core/flow/service-gate.ts';
import { buildRegistry } from '../../src/worker/registry.ts';
import { handle } from '../../tasks/context.ts';
import { handlers } from '../../tasks/index.ts';
import { newPrefix, testRedisUrl, useTestHub } from '../helpers/test-hub.ts';
import { deletePrefix } from '../../src/core/keys.ts';

const flow: FlowConfig = {
  services: {
    pricing: { service: 'pricing', rateLimit: { max: 1, perMs: 1_500, marginMs: 50 }, maxWaitMs: 300 },
  },
  pools: {},
};
const hub = useTestHub({ flow });

const t = domain('flowin', {
  price: task({ description: 'one pricing call', schema: z.strictObject({ n: z.int() }), queue: 'product', timeoutMs: 10_000 }),
  order: task({ description: 'one order call', schema: z.strictObject({ n: z.int() }), queue: 'product', timeoutMs: 10_000 }),
  looseKey: task({
    description: 'a key function that returns whatever the payload holds',
    schema: z.strictObject({ key: z.union([z.string(), z.number()]) }),
    queue: 'product',
    timeoutMs: 10_000,
    concurrencyKey: (p) => p.key as string,
  }),
});
const registry = () =>
  buildRegistry(
    [
      ...handlers,
      handle(t.price, async ({ n }, { http, signal }) => http.pricing.get(`in/${n}`, { signal }).json()),
      handle(t.order, async ({ n }, { http, signal }) => http.order.get(`in/${n}`, { signal }).json()),
      handle(t.looseKey, async () => 'ran'),
    ],
    { ...catalog, ...catalogOf(t) },
  );
const add = async (contract: { name: string; queue: string }, data: object) => {
  const job = await hub.rawQueue(contract.queue).add(contract.name, data, { attempts: 3 });
  return { id: job.id!, queue: contract.queue };
};

/** Counts the commands the flow runtime's connection sends. */
const countCommands = (redis: Redis) => {
  const sent: string[] = [];
  const send = redis.sendCommand.bind(redis);
  redis.sendCommand = ((command: { name: string }) => (sent.push(command.name), send(command as never))) as typeof redis.sendCommand;
  return sent;
};

describe('calls to a service without limits', () => {
  it('send no Redis command at all; a limited one sends one per call', async () => {
    await hub.startWorker(registry());
    const sent = countCommands(hub.flow!.redis as Redis);
    const jobs = await Promise.all(Array.from({ length: 20 }, (_, n) => add(t.order, { n })));
    await Promise.all(jobs.map((j) => hub.finished(j)));
    expect(hub.services.order.requests).toHaveLength(20);
    expect(sent).toEqual([]);

    const priced = await add(t.price, { n: 1 });
    await hub.finished(priced);
    // EVALSHA (plus EVAL once, the first time Redis sees the script).
    expect(sent.filter((c) => c !== 'eval')).toEqual(['evalsha']);
  });
});

describe('a wait longer than maxWaitMs', () => {
  it('sends the job back to delayed without spending an attempt; it completes when its turn comes', async () => {
    await hub.startWorker(registry());
    const first = await add(t.price, { n: 1 });
    await hub.finished(first);
    // The next turn is 1.55 s away, past maxWaitMs (300 ms): deferred, not held by the worker.
    const second = await add(t.price, { n: 2 });
    await expect.poll(() => hub.logs.some((l) => l.includes('task deferred')), { timeout: 5_000 }).toBe(true);
    const deferred = JSON.parse(hub.logs.find((l) => l.includes('task deferred'))!);
    expect(deferred.why).toMatch(/^pricing: rate-limit; the job runs again in \d+ ms, no attempt spent$/);
    expect(await hub.rawQueue('product').getJobState(second.id)).toBe('delayed');
    // The board shows why, in the job's own log.
    const { logs } = await hub.rawQueue('product').getJobLogs(second.id);
    expect(logs[0]).toMatch(/deferred, no attempt spent: pricing: rate-limit; the job runs again in \d+ ms/);
    await hub.finished(second);
    const [a, b] = hub.services.pricing.requests.map((r) => r.at);
    expect(b! - a!).toBeGreaterThanOrEqual(1_500);
    expect(await hub.attemptsMade(second.id)).toBe(1);
  });
});

describe('429 with Retry-After, a service without limits', () => {
  it('defers the job for that long without spending an attempt (no fleet hold-off without a limit)', async () => {
    hub.services.order.reply('GET', '/in/:n', { status: 429, headers: { 'retry-after': '1' } }, { status: 200, body: {} });
    await hub.startWorker(registry());
    const job = await add(t.order, { n: 1 });
    await hub.finished(job);
    const [a, b] = hub.services.order.requests.map((r) => r.at);
    expect(b! - a!).toBeGreaterThanOrEqual(1_000);
    expect(await hub.attemptsMade(job.id)).toBe(1);
    expect(hub.logs.find((l) => l.includes('task deferred'))).toMatch(/order service GET \/in\/1 answered 429 Too Many Requests, with Retry-After 1 s/);
  });

  it('without Retry-After, stays a retryable failure that spends an attempt', async () => {
    hub.services.order.reply('GET', '/in/:n', 429, { status: 200, body: {} });
    await hub.startWorker(registry());
    const job = await add(t.order, { n: 1 });
    await hub.finished(job);
    expect(await hub.attemptsMade(job.id)).toBe(2);
  });
});

describe('a key function giving no string at run time', () => {
  it('fails the job permanently, saying what it returned', async () => {
    await hub.startWorker(registry());
    const ok = await add(t.looseKey, { key: 'a' });
    await expect(hub.finished(ok)).resolves.toBe('ran');
    const bad = await add(t.looseKey, { key: 42 });
    await expect(hub.finished(bad)).rejects.toThrow(
      'flowin.looseKey: concurrencyKey must return a non-empty string of at most 200 characters; it returned number',
    );
    expect(await hub.attemptsMade(bad.id)).toBe(1);
  });
});

describe('Retry-After', () => {
  it('reads seconds and HTTP dates, bounded to 1 s .. 10 min', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(retryAfterMs('2', now)).toBe(2_000);
    expect(retryAfterMs('0', now)).toBe(1_000);
    expect(retryAfterMs('86400', now)).toBe(600_000);
    expect(retryAfterMs('Thu, 01 Jan 2026 00:00:30 GMT', now)).toBe(30_000);
    expect(retryAfterMs('soon', now)).toBeUndefined();
    expect(retryAfterMs(undefined, now)).toBeUndefined();
  });
});

describe('the gate on its own', () => {
  const gate = (redis: Redis, prefix: string, limits: Partial<ConstructorParameters<typeof ServiceGate>[2]>) =>
    new ServiceGate(redis, prefix, { service: 'x', maxWaitMs: 5_000, ...limits }, 5_000);

  it('maxInFlight: never more calls on their way at once, over two processes\' gates', async () => {
    const [r1, r2] = [new Redis(testRedisUrl()), new Redis(testRedisUrl())];
    const prefix = newPrefix();
    const gates = [gate(r1, prefix, { maxInFlight: 3 }), gate(r2, prefix, { maxInFlight: 3 })];
    let open = 0;
    let peak = 0;
    await Promise.all(
      Array.from({ length: 24 }, async (_, i) => {
        const g = gates[i % 2]!;
        const id = await g.take();
        peak = Math.max(peak, ++open);
        await new Promise((r) => setTimeout(r, 15));
        open--;
        g.done(id);
      }),
    );
    expect(peak).toBe(3);
    await deletePrefix(r1, prefix);
    r1.disconnect();
    r2.disconnect();
  });

  it('a hold-off stops every turn until it ends', async () => {
    const redis = new Redis(testRedisUrl());
    const prefix = newPrefix();
    const g = gate(redis, prefix, { rateLimit: { max: 100, perMs: 1_000, marginMs: 10 } });
    await g.holdOff(600, 429);
    const started = performance.now();
    await g.take();
    expect(performance.now() - started).toBeGreaterThanOrEqual(590);
    await expect(gate(redis, prefix, { rateLimit: { max: 100, perMs: 1_000, marginMs: 10 }, maxWaitMs: 100 }).take().then(() => 'ok')).resolves.toBe('ok');
    await g.holdOff(2_000, 503);
    await expect(gate(redis, prefix, { maxWaitMs: 100, rateLimit: { max: 100, perMs: 1_000, marginMs: 10 } }).take()).rejects.toBeInstanceOf(BackPressureError);
    await deletePrefix(redis, prefix);
    redis.disconnect();
  });
});
