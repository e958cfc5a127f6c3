import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deletePrefix, queuePrefix } from '../../src/core/keys.ts';
import { createRedis, mastersOf, nodeName, whenReady, type RedisClient } from '../../src/core/redis.ts';
import { workflowKey } from '../../src/core/workflow/scripts.ts';
import { createProducer, type Producer } from '../../src/producer/index.ts';
import type { ServiceName } from '../../services.config.ts';
import type { RoleProcess } from '../helpers/spawn-role.ts';
import type { StubService } from '../helpers/stub-service.ts';
import { newPrefix } from '../helpers/test-hub.ts';
import { clusterTarget, masterAddresses, nodeClient, ownerOf } from './cluster-env.ts';
import { bearer, hubEnv, startHub, startStubs, stopRole } from './hub-on-cluster.ts';
import { auditSlots, commandTable, startMonitor } from './slot-audit.ts';

/**
 * Workflows across shards: a chord whose members run on the cart and product queues and whose
 * callback runs on order, with those three queues on three different masters (the prefix is
 * picked so). No flow tree: each member records itself in the workflow's own hash (a fourth
 * slot), and every command the masters run meanwhile is audited for cross-slot access.
 */
const QUEUES = ['cart', 'product', 'order'] as const;
let prefix = '';
let redis: RedisClient;
let stubs: Record<ServiceName, StubService>;
let hub: RoleProcess;
let url: string;
let producer: Producer;
let monitors: ReturnType<typeof startMonitor>[];

beforeAll(async () => {
  redis = createRedis(clusterTarget(), 'worker');
  await whenReady(redis);
  for (let tries = 0; !prefix && tries < 500; tries++) {
    const candidate = newPrefix();
    const owners = await Promise.all(QUEUES.map((q) => ownerOf(queuePrefix(candidate, q))));
    if (new Set(owners).size === QUEUES.length) prefix = candidate;
  }
  const masters = await masterAddresses();
  monitors = masters.map((m) => startMonitor(m.slice(0, m.lastIndexOf(':')), Number(m.slice(m.lastIndexOf(':') + 1))));
  await Promise.all(monitors.map((m) => m.ready));
  stubs = await startStubs();
  ({ hub, url } = await startHub(hubEnv(prefix, stubs)));
  producer = createProducer({ cluster: clusterTarget(), prefix, service: 'cluster-workflows' });
}, 90_000);

afterAll(async () => {
  await producer?.close();
  if (hub) await stopRole(hub);
  for (const m of monitors ?? []) m.stop();
  await Promise.all(Object.values(stubs ?? {}).map((s) => s.close()));
  if (prefix) await deletePrefix(redis, prefix);
  redis?.disconnect();
});

describe('workflows on a 3-master Redis Cluster', () => {
  it('the chord\'s three queues sit on three different shards', async () => {
    expect(prefix).not.toBe('');
    const owners = await Promise.all(QUEUES.map((q) => ownerOf(queuePrefix(prefix, q))));
    expect(new Set(owners).size).toBe(3);
    expect(owners.every((o) => mastersOf(redis).some((n) => nodeName(n) === o))).toBe(true);
  });

  it('a chord with members on cart and product and its callback on order runs once, with every result', async () => {
    const members = [
      { task: 'cart.recalculateTotals' as const, payload: { cartId: randomUUID() } },
      { task: 'product.reindex' as const, payload: { productIds: [randomUUID()] } },
      { task: 'cart.recalculateTotals' as const, payload: { cartId: randomUUID() } },
    ];
    const started = await producer.chord(members, { task: 'order.summarizeResults', payload: { label: 'cluster' }, from: { results: '$' } });
    expect(new Set(started.jobs.map((j) => j.queue))).toEqual(new Set(['cart', 'product']));
    expect(await producer.waitFor(started, { timeoutMs: 30_000 })).toEqual({ label: 'cluster', total: 3, succeeded: 3, failed: [] });
    const info = await producer.getWorkflow(started.workflowId);
    expect(info!.steps.map((s) => [s.queue, s.state])).toEqual([['cart', 'completed'], ['product', 'completed'], ['cart', 'completed'], ['order', 'completed']]);
    // The workflow's hash is a key of its own tag (on whichever master serves its slot).
    expect(await redis.exists(workflowKey(prefix, started.workflowId))).toBe(1);
  });

  it('a chain over the three queues through the HTTP API, in order', async () => {
    const body = {
      type: 'chain',
      steps: [
        { task: 'cart.recalculateTotals', payload: { cartId: randomUUID() } },
        { task: 'product.reindex', payload: {} },
        { task: 'order.generateInvoice', payload: { orderId: randomUUID() } },
      ],
    };
    const res = await fetch(`${url}/api/v1/workflows`, { method: 'POST', headers: { ...bearer(), 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect(res.status).toBe(202);
    const started = (await res.json()) as { workflowId: string };
    await producer.waitFor(started as never, { timeoutMs: 30_000 });
    const state = (await (await fetch(`${url}/api/v1/workflows/${started.workflowId}`, { headers: bearer() })).json()) as { state: string; steps: { queue: string; state: string }[] };
    expect(state.state).toBe('completed');
    expect(state.steps.map((s) => s.queue)).toEqual(['cart', 'product', 'order']);
  });

  it('no operation of the run touched keys of two hash slots (workflow scripts included)', async () => {
    expect(await stopRole(hub)).toEqual({ code: 0, signal: null });
    await deletePrefix(redis, prefix);
    await new Promise((r) => setTimeout(r, 200)); // the monitors' last lines in flight
    for (const m of monitors) m.stop();
    const masters = await masterAddresses();
    const probe = nodeClient(masters[0]!);
    const table = await commandTable(probe);
    const audit = await auditSlots(monitors.map((m) => m.lines), prefix, table, (args) => probe.call('COMMAND', 'GETKEYS', ...args) as Promise<string[]>);
    probe.disconnect();
    const workflowOps = monitors.flatMap((m) => m.lines).filter((l) => l.includes(`{${prefix}-wf:`)).length;
    console.log(`workflow slot audit: ${audit.operations} operations, ${workflowOps} on workflow hashes; ${audit.crossSlot.length} across slots`);
    expect(workflowOps).toBeGreaterThan(10);
    expect(audit.crossSlot.slice(0, 5)).toEqual([]);
    expect(audit.untagged.slice(0, 5)).toEqual([]);
  });
});
