import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Queue } from 'bullmq';
import type { AnyContract } from '../../src/contracts/index.ts';
import { jobOptionsFor, withJobId } from '../../src/core/job-options.ts';
import { deletePrefix, queuePrefix } from '../../src/core/keys.ts';
import { createProducer, type JobRef, type Producer } from '../../src/producer/index.ts';
import { newJobId } from '../../src/producer/job-ids.ts';
import { serviceNames, type ServiceName } from '../../services.config.ts';
import { spawnRole, type RoleProcess } from '../helpers/spawn-role.ts';
import { StubService, type RecordedRequest } from '../helpers/stub-service.ts';
import { newPrefix, stubEnv, testRedisUrl } from '../helpers/test-hub.ts';
import { Redis } from 'ioredis';
import { flow } from './flow-tasks.ts';
import { maxInWindow, overlaps, utilisation } from './windows.ts';

/**
 * Flow control across real worker processes: three `runWorker` processes (20 jobs at a time each
 * on the order queue), the pricing service limited to 40 calls per second by environment, the
 * proxies pool given three items, every service a real HTTP stub recording arrival times.
 */
const WORKERS = 3;
const LIMIT = { max: 40, perMs: 1_000 };
const ARRIVAL_JITTER_MS = 50;

const stubs = {} as Record<ServiceName, StubService>;
const workers: RoleProcess[] = [];
let prefix: string;
let producer: Producer;
let redis: Redis;

let queue: Queue;
/** Added as a plain BullMQ client would (test tasks are not in the producer's catalog), with the task's options. */
const enqueueAll = async (contract: AnyContract, payloads: object[]): Promise<JobRef[]> => {
  const added = await queue.addBulk(payloads.map((data) => ({ name: contract.name, data, opts: withJobId(jobOptionsFor(contract), newJobId('order')) })));
  return added.map((j) => ({ id: j.id!, queue: 'order' }));
};
const allDone = (jobs: JobRef[]) => Promise.all(jobs.map((j) => producer.waitFor(j, { timeoutMs: 30_000 })));

beforeAll(async () => {
  for (const name of serviceNames) stubs[name] = await StubService.start();
  prefix = newPrefix();
  redis = new Redis(testRedisUrl());
  producer = createProducer({ redisUrl: testRedisUrl(), prefix, service: 'flow-test' });
  queue = new Queue('order', { connection: redis, prefix: queuePrefix(prefix, 'order') });
  for (let i = 0; i < WORKERS; i++) {
    workers.push(
      spawnRole('test/flow/flow-worker.ts', {
        REDIS_URL: testRedisUrl(),
        HUB_PREFIX: prefix,
        HUB_QUEUES: 'order',
        ...stubEnv(stubs),
        PRICING_API_RATE_LIMIT: `${LIMIT.max}/${LIMIT.perMs}`,
        PROXY_POOL: 'proxy-a,proxy-b,proxy-c',
      }),
    );
  }
  await Promise.all(workers.map((w) => w.waitForLine(/"worker ready"/, 30_000)));
}, 60_000);

afterAll(async () => {
  for (const w of workers) w.child.kill('SIGTERM');
  await Promise.all(workers.map((w) => w.exited));
  await producer.close();
  await queue.close();
  await deletePrefix(redis, prefix);
  redis.disconnect();
  await Promise.all(Object.values(stubs).map((s) => s.close()));
});

beforeEach(() => {
  for (const s of Object.values(stubs)) s.reset();
});

const arrivals = (requests: RecordedRequest[]) => requests.map((r) => r.at).sort((a, b) => a - b);

describe('a rate-limited service, three worker processes x 20', () => {
  it(`never sees more than ${LIMIT.max} calls in any ${LIMIT.perMs} ms (less ${ARRIVAL_JITTER_MS} ms of delivery jitter), and gets most of it`, async () => {
    const n = 120;
    stubs.pricing.reply('GET', '/flow/call/:n', { status: 200, body: { ok: true } });
    // The workers just started: a first batch warms them up (connections, JIT), not counted.
    await allDone(await enqueueAll(flow.call, Array.from({ length: 30 }, (_, i) => ({ n: -i }))));
    stubs.pricing.reset();
    stubs.pricing.reply('GET', '/flow/call/:n', { status: 200, body: { ok: true } });
    const jobs = await enqueueAll(flow.call, Array.from({ length: n }, (_, i) => ({ n: i })));
    await allDone(jobs);
    const at = arrivals(stubs.pricing.calls('GET', '/flow/call/:n'));
    expect(at).toHaveLength(n);
    // The limiter paces the turns (Redis time); arrival at the service adds each call's own
    // delivery time, which on a loaded 2-core machine varies by tens of ms (a CI run once saw 41
    // arrivals in 1,000 ms: a late call and a punctual one landing one pace apart). So the windows
    // checked here are 50 ms (two paces) shorter than the limit's; without the limiter all 120
    // calls would land in a few of them.
    expect(maxInWindow(at, LIMIT.perMs - ARRIVAL_JITTER_MS)).toBeLessThanOrEqual(LIMIT.max);
    // A worker that wakes late for its turn gives it up rather than crowd the next window, so
    // on a loaded machine (this suite runs files in parallel) some turns go unused. The 90%
    // target is held by the fault suite's 600-call scenario, which runs alone
    // (test/faults/14-flow-rate.faults.ts), and reported by the bench.
    expect(utilisation(at, LIMIT)).toBeGreaterThanOrEqual(0.7);
  });
});

describe('429 with Retry-After', () => {
  it('holds every worker off the service for that long; the job completes afterwards, its attempt unspent', async () => {
    stubs.pricing.reply('GET', '/flow/call/:n', { status: 429, headers: { 'retry-after': '2' } }, { status: 200, body: { ok: true } });
    const [first] = await enqueueAll(flow.call, [{ n: -1 }]);
    const throttled = await new Promise<RecordedRequest>((resolve) => stubs.pricing.once('settled', resolve));
    // While the hold-off lasts, 30 more jobs reach the three workers.
    const more = await enqueueAll(flow.call, Array.from({ length: 30 }, (_, i) => ({ n: i })));
    await allDone([first!, ...more]);

    const after = stubs.pricing.requests.filter((r) => r !== throttled);
    expect(after).toHaveLength(31);
    const earliest = Math.min(...after.map((r) => r.at));
    expect(earliest - throttled.at).toBeGreaterThanOrEqual(2_000);
    expect((await producer.getJob(first!))!.attemptsMade).toBe(1);
    // Every worker process ran some of them (each held off, none called early).
    const ran = workers.map((w) => w.lines.filter((l) => l.includes('"flowtest.call"') && l.includes('task succeeded')).length);
    expect(ran.filter((k) => k > 0).length).toBeGreaterThanOrEqual(2);
  });
});

describe('concurrency per key (perKey 1)', () => {
  it('100 jobs over 5 keys: one call per key at a time, every key moving at once, the jobs that waited in enqueue order', async () => {
    const keys = ['k0', 'k1', 'k2', 'k3', 'k4'];
    stubs.order.reply('POST', '/flow/keyed/:key/:seq', { status: 200, body: {}, delayMs: 30 });
    const payloads = Array.from({ length: 100 }, (_, i) => ({ key: keys[i % 5]!, seq: Math.floor(i / 5) }));
    // One enqueue at a time, as services enqueue: each job its own enqueue time.
    const jobs: JobRef[] = [];
    for (const p of payloads) jobs.push(...(await enqueueAll(flow.keyed, [p])));
    await allDone(jobs);

    const calls = stubs.order.calls('POST', '/flow/keyed/:key/:seq');
    expect(calls).toHaveLength(100);
    // Jobs that found their key busy: they waited in the key's line, in delayed (the workers log it).
    const nameOf = new Map(jobs.map((j, i) => [(j as { id: string }).id, `${payloads[i]!.key}/${payloads[i]!.seq}`]));
    const waited = new Set(
      workers.flatMap((w) => w.lines.filter((l) => l.includes('task deferred') && l.includes('is busy')).map((l) => nameOf.get(JSON.parse(l).jobId as string))),
    );
    const createdAt = new Map(await Promise.all(jobs.map(async (j, i) => [`${payloads[i]!.key}/${payloads[i]!.seq}`, (await producer.getJob(j))!.createdAt] as const)));
    let waitedInAll = 0;
    for (const key of keys) {
      const list = calls.filter((c) => c.path.split('/')[3] === key).sort((a, b) => a.at - b.at);
      expect(list, key).toHaveLength(20);
      expect(overlaps(list.map((c) => [c.at, c.settledAt!])), `${key}: calls overlapping`).toBe(0);
      // The line is in enqueue order (the job's timestamp, in ms); jobs reaching a free key at the
      // same instant from two workers, or enqueued in the same ms, can start either way round (README, Flow control).
      const line = list.map((c) => Number(c.path.split('/')[4])).filter((seq) => waited.has(`${key}/${seq}`));
      const enqueuedAt = line.map((seq) => createdAt.get(`${key}/${seq}`)!);
      expect(enqueuedAt.join(','), `${key}: jobs that waited (${line.join(',')})`).toEqual([...enqueuedAt].sort((a, b) => a - b).join(','));
      waitedInAll += line.length;
    }
    // The line did the work: most jobs found their key busy and waited, without holding a worker.
    expect(waitedInAll).toBeGreaterThanOrEqual(50);
    // All keys at once: at some moment a call of every key was open.
    const everyone = calls.map((c) => [c.at, c.settledAt!] as const);
    const peak = Math.max(...everyone.map(([t]) => everyone.filter(([a, b]) => a <= t && t < b).length));
    expect(peak).toBe(5);
  });
});

describe('a pool of 3 items', () => {
  it('30 jobs: never two leases of one item at once, and each item rests its cooldown (250 ms) between them', async () => {
    stubs.order.reply('POST', '/flow/leased/:item/:n', { status: 200, body: {}, delayMs: 20 });
    const jobs = await enqueueAll(flow.lease, Array.from({ length: 30 }, (_, i) => ({ n: i })));
    await allDone(jobs);
    const calls = stubs.order.calls('POST', '/flow/leased/:item/:n');
    expect(calls).toHaveLength(30);
    const items = new Set(calls.map((c) => c.path.split('/')[3]));
    expect([...items].sort()).toEqual(['proxy-a', 'proxy-b', 'proxy-c']);
    for (const item of items) {
      const uses = calls.filter((c) => c.path.split('/')[3] === item).sort((a, b) => a.at - b.at);
      const gaps = uses.slice(1).map((u, i) => u.at - uses[i]!.settledAt!);
      // From the answer's end as the stub noted it (just after writing it) to the next call's arrival.
      expect(Math.min(...gaps), `${item}: rest between leases`).toBeGreaterThanOrEqual(249);
    }
  });
});

describe('bad flow config: the worker refuses to start, naming the entry', () => {
  const cases: [string, Record<string, string>, RegExp][] = [
    [
      'a limit for an unknown service',
      { PRICE_API_RATE_LIMIT: '5/1000' },
      /PRICE_API_RATE_LIMIT: no service in services\.config\.ts has the URL variable PRICE_API_URL \(did you mean "PRICING_API_RATE_LIMIT"\?\)/,
    ],
    ['a rate limit of 0', { PRICING_API_RATE_LIMIT: '0/60000' }, /"0\/60000": expected <max>\/<perMs>, both whole numbers >= 1[^\n]*\n\s*→ at PRICING_API_RATE_LIMIT/],
    ['a negative rate limit', { PRICING_API_RATE_LIMIT: '-40/60000' }, /"-40\/60000": expected <max>\/<perMs>[^\n]*\n\s*→ at PRICING_API_RATE_LIMIT/],
    ['in flight 0', { ORDER_SERVICE_MAX_IN_FLIGHT: '0' }, /at least 1 \(a limit of 0 would stop every call\)\n\s*→ at ORDER_SERVICE_MAX_IN_FLIGHT/],
    ['an empty pool', { PROXY_POOL: ' , ' }, /the pool lists no item[^\n]*\n\s*→ at PROXY_POOL/],
    ['perKey 0', { FLOW_TEST_BAD: 'perKey' }, /src\/contracts: flowbad\.zeroPerKey\.perKey must be a whole number >= 1 \(got 0\)/],
    [
      'a key function returning a non-string',
      { FLOW_TEST_BAD: 'keyFn' },
      /flowbad\.numberKey\.concurrencyKey, tried on the example payload \{"count":-?\d+\}: concurrencyKey must return a non-empty string of at most 200 characters; it returned number/,
    ],
  ];
  it.each(cases)('%s', async (_name, env, message) => {
    const p = spawnRole('test/flow/flow-worker.ts', { REDIS_URL: testRedisUrl(), HUB_PREFIX: newPrefix(), HUB_QUEUES: 'order', ...stubEnv(stubs), ...env });
    const { code } = await p.exited;
    expect(code).toBe(1);
    expect(p.lines.join('\n')).toMatch(message);
    expect(p.lines.join('\n')).not.toMatch(/worker ready/);
  });
});
