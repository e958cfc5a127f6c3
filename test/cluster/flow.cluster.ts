import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queues } from '../../queues.config.ts';
import { catalog, type TaskName } from '../../src/contracts/index.ts';
import { deletePrefix, queuePrefix } from '../../src/core/keys.ts';
import { createRedis, mastersOf, nodeName, whenReady, type RedisClient } from '../../src/core/redis.ts';
import { createProducer, type Producer } from '../../src/producer/index.ts';
import type { ServiceName } from '../../services.config.ts';
import type { RoleProcess } from '../helpers/spawn-role.ts';
import type { StubService } from '../helpers/stub-service.ts';
import { clusterTarget, masterAddresses, nodeClient, ownerOf, spreadPrefix } from './cluster-env.ts';
import { basic, bearer, hubEnv, payloads, startHub, startStubs, stopRole } from './hub-on-cluster.ts';
import { auditSlots, commandTable, keySlot, startMonitor } from './slot-audit.ts';
import { spawnRole } from '../helpers/spawn-role.ts';

/**
 * The whole hub on the cluster, as `npm start` runs it, plus a second beat replica: every task
 * through the producer and the HTTP API, retries, beat ticks, the board, /readyz and /metrics.
 * Every command the masters execute meanwhile is watched; the last test checks that no
 * operation touched keys of two hash slots.
 */
let prefix: string;
const tasks = Object.keys(catalog) as TaskName[];
let redis: RedisClient;
let stubs: Record<ServiceName, StubService>;
let hub: RoleProcess;
let beat: RoleProcess;
let url: string;
let producer: Producer;
let monitors: ReturnType<typeof startMonitor>[];
const crossSlotErrorsBefore = new Map<string, number>();

const crossSlotErrors = async (address: string) => {
  const node = nodeClient(address);
  try {
    return Number(/errorstat_CROSSSLOT:count=(\d+)/.exec(await node.info('errorstats'))?.[1] ?? 0);
  } finally {
    node.disconnect();
  }
};

beforeAll(async () => {
  redis = createRedis(clusterTarget(), 'worker');
  await whenReady(redis);
  prefix = await spreadPrefix(Object.keys(queues));
  const masters = await masterAddresses();
  for (const m of masters) crossSlotErrorsBefore.set(m, await crossSlotErrors(m));
  monitors = masters.map((m) => startMonitor(m.slice(0, m.lastIndexOf(':')), Number(m.slice(m.lastIndexOf(':') + 1))));
  await Promise.all(monitors.map((m) => m.ready));
  stubs = await startStubs();
  const env = hubEnv(prefix, stubs);
  ({ hub, url } = await startHub(env));
  beat = spawnRole('src/beat/main.ts', env);
  await beat.waitForLine(/"beat running"/, 30_000);
  producer = createProducer({ cluster: clusterTarget(), prefix, service: 'cluster-suite' });
}, 90_000);

afterAll(async () => {
  await producer?.close();
  for (const role of [hub, beat]) if (role) await stopRole(role);
  for (const m of monitors ?? []) m.stop();
  await Promise.all(Object.values(stubs ?? {}).map((s) => s.close()));
  await deletePrefix(redis, prefix);
  redis?.disconnect();
});

const get = (path: string, headers = basic()) => fetch(`${url}${path}`, { headers });

describe('the hub on a 3-master Redis Cluster', () => {
  it('runs every task of every domain end to end through the producer (single, keyed, batched), and finds each job by id', async () => {
    const jobs = await Promise.all(tasks.map((task) => producer.enqueue(task, payloads[task] as never)));
    const results = await Promise.all(jobs.map((job) => producer.waitFor(job, { timeoutMs: 30_000 })));
    expect(results.every((r) => r !== undefined)).toBe(true);
    for (const job of jobs) expect((await producer.getJob(job.id))?.state, job.task).toBe('completed');

    const key = `cluster-${randomUUID()}`;
    const first = await producer.enqueue('order.generateInvoice', { orderId: randomUUID() }, { idempotencyKey: key, requestId: 'first' });
    const again = await producer.enqueue('order.generateInvoice', payloads['order.generateInvoice'], { idempotencyKey: `${key}-2` });
    expect((await producer.enqueue('order.generateInvoice', payloads['order.generateInvoice'], { idempotencyKey: `${key}-2` })).id).toBe(again.id);
    const batch = await producer.enqueueMany(tasks.slice(0, 6).map((task) => ({ task, payload: payloads[task] as never })));
    expect(new Set(batch.map((j) => j.queue)).size).toBeGreaterThan(1);
    await Promise.all([first, again, ...batch].map((job) => producer.waitFor(job, { timeoutMs: 30_000 })));
    // The sweep fanned out its reminders (keyed enqueues from inside a worker) and they ran too.
    for (const cartId of [...new Set(stubs.cart.calls('POST', '/api/carts/:id/reminders').map((c) => c.path))]) expect(cartId).toMatch(/reminders$/);
    expect(stubs.cart.calls('POST', '/api/carts/:id/reminders').length).toBeGreaterThanOrEqual(2);
  });

  it('and through the HTTP API: enqueue every task, read each job, find it by task and state', async () => {
    const ids: [TaskName, string][] = [];
    for (const task of tasks) {
      const res = await fetch(`${url}/api/v1/tasks/${task}`, { method: 'POST', headers: { ...bearer(), 'content-type': 'application/json' }, body: JSON.stringify(payloads[task]) });
      expect(res.status, task).toBe(202);
      ids.push([task, ((await res.json()) as { id: string }).id]);
    }
    await Promise.all(ids.map(([, id]) => producer.waitFor(id, { timeoutMs: 30_000 })));
    for (const [task, id] of ids) {
      const job = (await (await fetch(`${url}/api/v1/jobs/${id}`, { headers: bearer() })).json()) as { state: string; task: string };
      expect(job, task).toMatchObject({ state: 'completed', task });
    }
    const found = (await (await fetch(`${url}/api/v1/jobs?task=order.generateInvoice&state=completed&limit=100`, { headers: bearer() })).json()) as { jobs: { id: string }[] };
    expect(found.jobs.map((j) => j.id)).toContain(ids.find(([t]) => t === 'order.generateInvoice')![1]);
  });

  it('retries: a 503 is retried to success; a 404 fails at once and the board retries it', async () => {
    const flaky = randomUUID();
    stubs.order.reply('GET', `/api/orders/${flaky}`, 503, { status: 200, body: { id: flaky, status: 'paid' } });
    const retried = await producer.enqueue('order.sendConfirmation', { orderId: flaky, email: 'ada@example.com' });
    await expect(producer.waitFor(retried, { timeoutMs: 20_000 })).resolves.toEqual({ sent: true });
    expect((await producer.getJob(retried))?.attemptsMade).toBe(2);

    const missing = randomUUID();
    stubs.order.reply('GET', `/api/orders/${missing}`, 404, { status: 200, body: { id: missing, status: 'paid' } });
    const failed = await producer.enqueue('order.sendConfirmation', { orderId: missing, email: 'ada@example.com' });
    await expect(producer.waitFor(failed, { timeoutMs: 20_000 })).rejects.toThrow(/404/);
    expect((await producer.getJob(failed))?.attemptsMade).toBe(1);
    const retry = await fetch(`${url}/api/queues/order/${failed.id}/retry`, { method: 'PUT', headers: basic() });
    expect(retry.status).toBe(204);
    await expect(producer.waitFor(failed, { timeoutMs: 20_000 })).resolves.toEqual({ sent: true });
  });

  it('beat, two replicas: one job per tick, the no-overlap entry skips while its previous run goes on', async () => {
    stubs.order.reply('POST', '/api/orders/cancel-unpaid', { status: 200, body: { cancelled: 0 }, delayMs: 1_500 });
    const ticks = new Set<string>();
    let calls = 0;
    await new Promise<void>((resolve) => {
      const onRequest = (r: { method: string; path: string; headers: Record<string, unknown> }) => {
        if (r.method !== 'POST' || r.path !== '/api/carts/purge-expired' || !String(r.headers['idempotency-key']).includes('tick')) return;
        calls++;
        ticks.add(String(r.headers['idempotency-key']));
        if (ticks.size >= 5) (stubs.cart.off('request', onRequest), resolve());
      };
      stubs.cart.on('request', onRequest);
    });
    expect(calls).toBe(ticks.size);
    const created = [...hub.lines, ...beat.lines].filter((l) => l.includes('"scheduler created"') || /scheduler created/.test(l));
    expect(created.filter((l) => l.includes('"tick"') || /: tick\b/.test(l))).toHaveLength(1);
    const slow = await fetch(`${url}/api/v1/jobs?task=order.cancelUnpaidOrders&state=completed&limit=100`, { headers: bearer() });
    const ids = ((await slow.json()) as { jobs: { id: string }[] }).jobs.map((j) => j.id);
    const results = await Promise.all(ids.map(async (id) => (await producer.getJob(id))?.result as { skipped?: string } | undefined));
    expect(results.some((r) => r?.skipped === 'overlap')).toBe(true);
    expect(results.some((r) => r && !r.skipped)).toBe(true);
  });

  it('the board, /readyz and /metrics see every queue and the whole fleet', async () => {
    const ready = (await (await get('/readyz')).json()) as { ready: boolean; redis: { masters: number }; workers: Record<string, number> };
    expect(ready).toMatchObject({ ready: true, redis: { masters: 3 } });
    expect(Object.keys(ready.workers).sort()).toEqual(Object.keys(queues).sort());
    expect(Object.values(ready.workers).every((n) => n === 1)).toBe(true);

    const board = (await (await get('/api/queues')).json()) as { queues: { name: string; counts: Record<string, number> }[] };
    expect(board.queues.map((q) => q.name).sort()).toEqual(Object.keys(queues).sort());
    expect(board.queues.find((q) => q.name === 'order')!.counts.completed).toBeGreaterThan(0);
    expect((await get('/api/redis/stats')).status).toBe(200);
    const added = await fetch(`${url}/api/queues/cart/add`, {
      method: 'POST',
      headers: { ...basic(), 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'cart.recalculateTotals', data: { cartId: randomUUID() }, options: {} }),
    });
    expect(added.status).toBe(200);
    await producer.waitFor(((await added.json()) as { job: { id: string } }).job.id, { timeoutMs: 20_000 });
    expect((await fetch(`${url}/api/queues/auth/clean/completed`, { method: 'PUT', headers: basic() })).status).toBe(200);
    expect((await fetch(`${url}/api/queues/cart/job-schedulers/tick/run`, { method: 'PUT', headers: basic() })).status).toBeLessThan(300);

    // Workers add their counts every 5 s: poll the scrape until this run's shows.
    let text = '';
    for (const started = Date.now(); Date.now() - started < 15_000; await new Promise((r) => setTimeout(r, 500))) {
      text = await (await get('/metrics')).text();
      if (/taskhub_task_completed_total\{task="product\.syncPrices",queue="product"\} [1-9]/.test(text)) break;
    }
    for (const task of tasks) expect(text, task).toMatch(new RegExp(`taskhub_task_completed_total\\{task="${task.replace('.', '\\.')}",queue="[a-z-]+"\\} [1-9]`));
    expect(text).toMatch(/taskhub_workers_online\{queue="order"\} 1/);
    expect(text).toMatch(/taskhub_queue_jobs\{queue="order",state="completed"\} [1-9]/);
  });

  it("the domain queues' keys sit on more than one shard, each queue on the master of its slot", async () => {
    const owners = new Map<string, string>();
    for (const queue of Object.keys(queues)) owners.set(queue, await ownerOf(queuePrefix(prefix, queue)));
    expect(new Set(owners.values()).size).toBeGreaterThan(1);
    for (const node of mastersOf(redis)) {
      const keys = await node.keys(`{${prefix}-*`);
      const tags = new Set(keys.map((k) => k.slice(prefix.length + 2, k.indexOf('}'))));
      for (const [queue, owner] of owners) expect(tags.has(queue), `${queue} on ${nodeName(node)}`).toBe(owner === nodeName(node));
    }
    // The suite's own slot function agrees with the cluster's.
    const probe = nodeClient(nodeName(mastersOf(redis)[0]!));
    for (const key of [...owners.keys()].map((q) => `${queuePrefix(prefix, q)}:${q}:wait`).concat(['plain', '{}x', 'a{b}c', '{{x}}'])) {
      expect(keySlot(key), key).toBe(await probe.cluster('KEYSLOT', key));
    }
    probe.disconnect();
  });

  it('no operation of the whole run touched keys of two hash slots, and every key carries its hash tag', async () => {
    expect(await stopRole(hub)).toEqual({ code: 0, signal: null });
    expect(await stopRole(beat)).toEqual({ code: 0, signal: null });
    await deletePrefix(redis, prefix);
    const masters = await masterAddresses();
    await new Promise((r) => setTimeout(r, 200)); // the monitors' last lines in flight
    for (const m of monitors) m.stop();
    const probe = nodeClient(masters[0]!);
    const table = await commandTable(probe);
    const audit = await auditSlots(monitors.map((m) => m.lines), prefix, table, (args) => probe.call('COMMAND', 'GETKEYS', ...args) as Promise<string[]>);
    probe.disconnect();
    console.log(`slot audit: ${audit.operations} operations on this run's keys, ${audit.multiKey} of them on several keys; ${audit.crossSlot.length} across slots`);
    expect(audit.crossSlot.slice(0, 5)).toEqual([]);
    expect(audit.untagged.slice(0, 5)).toEqual([]);
    expect(audit.multiKey).toBeGreaterThan(100);
    for (const m of masters) expect(await crossSlotErrors(m), m).toBe(crossSlotErrorsBefore.get(m) ?? 0);
  });
});
