import { randomUUID } from 'node:crypto';
import { Job } from 'bullmq';
import { describe, expect, it } from 'vitest';
import { queues } from '../queues.config.ts';
import { catalog } from '../src/contracts/index.ts';
import { buildRegistry } from '../src/worker/registry.ts';
import { handle } from '../tasks/context.ts';
import { handlers } from '../tasks/index.ts';
import { META_KEY, metaOf } from '../src/core/job-meta.ts';
import { createLogger } from '../src/core/logger.ts';
import { recordStep, workflowKey } from '../src/core/workflow/scripts.ts';
import { stepJobId } from '../src/core/workflow/steps.ts';
import { createProducer, InvalidWorkflowError, UnknownTaskError, WorkflowConflictError, WorkflowFailedError, type MemberResult } from '../src/producer/index.ts';
import { createWorkflowSteps } from '../src/worker/workflow-step.ts';
import { testRedisUrl, useTestHub } from './helpers/test-hub.ts';

type Hub = ReturnType<typeof useTestHub>;

/** The order service's invoice endpoint: the invoice of order X is `invoices[X]` (a UUID, so a later step can take it as an order id), 404 for `missing`. */
const serveInvoices = (hub: Hub, invoices: Record<string, string>, missing: readonly string[] = []) =>
  hub.services.order.reply('POST', '/api/orders/:id/invoice', (r) => {
    const id = r.path.split('/')[3]!;
    if (missing.includes(id)) return { status: 404, body: { error: 'no such order' } };
    return { status: 201, body: { invoiceId: invoices[id] ?? randomUUID() } };
  });

const invoicedOrders = (hub: Hub) => hub.services.order.calls('POST', '/api/orders/:id/invoice').map((c) => c.path.split('/')[3]);

/** Every job in every queue, any state. */
const allJobs = async (hub: Hub) => (await Promise.all(Object.keys(queues).map((q) => hub.rawQueue(q).getJobs()))).flat();

describe('chain', () => {
  const hub = useTestHub();

  it('runs three steps in order, each later step taking a field of the previous result', async () => {
    const [a, b, c, cartId] = [randomUUID(), randomUUID(), randomUUID(), randomUUID()];
    serveInvoices(hub, { [a]: b, [b]: c });
    hub.services.cart.reply('POST', '/api/carts/:id/checkout', 200);
    const started = await hub.producer.chain(
      [
        { task: 'order.generateInvoice', payload: { orderId: a } },
        { task: 'order.generateInvoice', payload: {}, from: { orderId: 'invoiceId' } },
        { task: 'cart.markCheckedOut', payload: { cartId }, from: { orderId: 'invoiceId' } },
      ],
      { requestId: 'req-chain-1' },
    );
    expect(started.type).toBe('chain');
    expect(started.jobs).toEqual([{ step: 0, id: stepJobId('order', started.workflowId, 0), task: 'order.generateInvoice', queue: 'order' }]);
    expect(await hub.producer.waitFor(started, { timeoutMs: 20_000 })).toEqual({ checkedOut: true });

    expect(invoicedOrders(hub)).toEqual([a, b]);
    const [checkout] = hub.services.cart.calls('POST', `/api/carts/${cartId}/checkout`);
    expect(checkout!.body).toEqual({ orderId: c });
    expect(checkout!.headers['x-request-id']).toBe('req-chain-1');

    const info = await hub.producer.getWorkflow(started.workflowId);
    expect(info).toMatchObject({ id: started.workflowId, type: 'chain', state: 'completed', result: { checkedOut: true }, service: 'test' });
    expect(info!.steps.map((s) => [s.index, s.task, s.state, s.result])).toEqual([
      [0, 'order.generateInvoice', 'completed', { invoiceId: b }],
      [1, 'order.generateInvoice', 'completed', { invoiceId: c }],
      [2, 'cart.markCheckedOut', 'completed', { checkedOut: true }],
    ]);
    // Each job names its workflow and step (the board shows it in the job's data).
    const last = await hub.rawQueue('cart').getJob(info!.steps[2]!.jobId);
    expect(last!.data[META_KEY]).toMatchObject({ workflow: { id: started.workflowId, step: 2 }, requestId: 'req-chain-1' });
    expect((await hub.producer.getJob(info!.steps[1]!.jobId))?.state).toBe('completed');
  });

  it('stops at a step that fails for good: later steps never run, the chain fails naming the step and reason', async () => {
    const [a, b, cartId] = [randomUUID(), randomUUID(), randomUUID()];
    serveInvoices(hub, { [a]: b }, [b]);
    hub.services.cart.reply('POST', '/api/carts/:id/checkout', 200);
    const started = await hub.producer.chain([
      { task: 'order.generateInvoice', payload: { orderId: a } },
      { task: 'order.generateInvoice', payload: {}, from: { orderId: 'invoiceId' } },
      { task: 'cart.markCheckedOut', payload: { cartId }, from: { orderId: 'invoiceId' } },
    ]);
    const failure = await hub.producer.waitFor(started).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(WorkflowFailedError);
    expect(failure).toMatchObject({ failedStep: 1, message: expect.stringMatching(/failed at step 1: .*404/) });
    const info = await hub.producer.getWorkflow(started.workflowId);
    expect(info!.steps.map((s) => s.state)).toEqual(['completed', 'failed', 'skipped']);
    expect(await hub.attemptsMade(info!.steps[1]!.jobId)).toBe(1);
    expect(hub.services.cart.calls('POST', '/api/carts/:id/checkout')).toHaveLength(0);
    expect(await hub.rawQueue('cart').getJobs()).toHaveLength(0);
  });

  it('a mapping whose path is missing from the previous result fails the chain at that step, which never runs', async () => {
    const a = randomUUID();
    serveInvoices(hub, {});
    const started = await hub.producer.chain([
      { task: 'order.generateInvoice', payload: { orderId: a } },
      { task: 'cart.markCheckedOut', payload: { cartId: randomUUID() }, from: { orderId: 'invoice.id' } },
    ]);
    await expect(hub.producer.waitFor(started)).rejects.toThrow(/failed at step 1: cart\.markCheckedOut was not enqueued: from\.orderId: the previous result has no "invoice\.id"/);
    expect(await hub.rawQueue('cart').getJobs()).toHaveLength(0);
  });
});

describe('from a handler', () => {
  const hub = useTestHub();

  it('ctx.group starts a workflow whose jobs carry the handler job\'s request id', async () => {
    const orderIds = [randomUUID(), randomUUID()];
    // A handler (standing in for a shipped one) that fans out through ctx.
    const fanOut = handle(catalog['order.cancelUnpaidOrders'], async (_input, ctx) => (await ctx.group(orderIds.map((orderId) => ({ task: 'order.generateInvoice' as const, payload: { orderId } })))).workflowId);
    await hub.startWorker(buildRegistry(handlers.map((h) => (h.contract.name === 'order.cancelUnpaidOrders' ? fanOut : h))));
    serveInvoices(hub, {});
    const job = await hub.producer.enqueue('order.cancelUnpaidOrders', {}, { requestId: 'req-fan-out' });
    const workflowId = (await hub.finished(job)) as string;
    expect(await hub.producer.waitFor({ workflowId, type: 'group', jobs: [] })).toHaveLength(2);
    const info = await hub.producer.getWorkflow(workflowId);
    expect(info!.service).toBe('task-hub');
    for (const step of info!.steps) expect((await hub.producer.getJob(step.jobId))?.requestId).toBe('req-fan-out');
  });
});

describe('group and chord', () => {
  const hub = useTestHub();
  const orders = () => [randomUUID(), randomUUID(), randomUUID()] as const;
  const members = (ids: readonly string[]) => ids.map((orderId) => ({ task: 'order.generateInvoice' as const, payload: { orderId } }));

  it('group: members run in parallel; the result lists every member in order, failed ones with their reason', async () => {
    const ids = orders();
    const invoices = Object.fromEntries(ids.map((id) => [id, `INV-${id}`]));
    serveInvoices(hub, invoices, [ids[1]]);
    const started = await hub.producer.group(members(ids));
    expect(started.jobs.map((j) => j.step)).toEqual([0, 1, 2]);
    const failure = (await hub.producer.waitFor(started).catch((e: unknown) => e)) as WorkflowFailedError;
    expect(failure).toBeInstanceOf(WorkflowFailedError);
    expect(failure.reason).toBe('1 of 3 members failed');
    const results = failure.result as MemberResult[];
    expect(results.map((r) => [r.index, r.ok, r.result])).toEqual([
      [0, true, { invoiceId: invoices[ids[0]] }],
      [1, false, undefined],
      [2, true, { invoiceId: invoices[ids[2]] }],
    ]);
    expect(results[1]!.error).toMatch(/404/);
    expect((await hub.producer.getWorkflow(started.workflowId))!.result).toEqual(results);
  });

  it('group: all members succeed -> waitFor resolves with their results in order', async () => {
    const ids = orders();
    serveInvoices(hub, Object.fromEntries(ids.map((id) => [id, `INV-${id}`])));
    const started = await hub.producer.group(members(ids));
    expect(await hub.producer.waitFor(started)).toEqual(ids.map((id, index) => ({ index, ok: true, result: { invoiceId: `INV-${id}` } })));
  });

  it('chord: the callback gets the members results when all succeed', async () => {
    const ids = orders();
    serveInvoices(hub, {});
    const started = await hub.producer.chord(members(ids), { task: 'order.summarizeResults', payload: { label: 'invoices' }, from: { results: '$' } });
    expect(await hub.producer.waitFor(started)).toEqual({ label: 'invoices', total: 3, succeeded: 3, failed: [] });
    const info = await hub.producer.getWorkflow(started.workflowId);
    expect(info!.steps.map((s) => [s.role, s.state])).toEqual([['member', 'completed'], ['member', 'completed'], ['member', 'completed'], ['callback', 'completed']]);
  });

  it('chord (default): a member failed for good means the callback never runs', async () => {
    const ids = orders();
    serveInvoices(hub, {}, [ids[2]]);
    const started = await hub.producer.chord(members(ids), { task: 'order.summarizeResults', payload: {}, from: { results: '$' } });
    await expect(hub.producer.waitFor(started)).rejects.toThrow('1 of 3 members failed; the callback did not run');
    const callbackId = stepJobId('order', started.workflowId, 3);
    expect(await hub.rawQueue('order').getJob(callbackId)).toBeUndefined();
    const info = await hub.producer.getWorkflow(started.workflowId);
    expect(info!.steps[3]).toMatchObject({ role: 'callback', state: 'skipped', jobId: callbackId });
  });

  it("chord with onMemberFailure 'continue': the callback runs with the failures listed", async () => {
    const ids = orders();
    serveInvoices(hub, {}, [ids[1]]);
    const started = await hub.producer.chord(members(ids), { task: 'order.summarizeResults', payload: {}, from: { results: '$' } }, { onMemberFailure: 'continue' });
    const summary = (await hub.producer.waitFor(started)) as { total: number; succeeded: number; failed: { index: number; error: string }[] };
    expect(summary).toMatchObject({ total: 3, succeeded: 2, failed: [{ index: 1 }] });
    expect(summary.failed[0]!.error).toMatch(/404/);
  });
});

describe('exactly once per step, and nothing added for bad input', () => {
  const hub = useTestHub({ worker: false });

  it('a member recording twice (a re-run) counts once, and the callback job is added once', async () => {
    const ids = [randomUUID(), randomUUID(), randomUUID()];
    const started = await hub.producer.chord(
      ids.map((orderId) => ({ task: 'order.generateInvoice' as const, payload: { orderId } })),
      { task: 'order.summarizeResults', payload: {}, from: { results: '$' } },
    );
    const steps = createWorkflowSteps({ redis: hub.redis, prefix: hub.prefix, log: createLogger({ name: 't', level: 'silent' }) });
    const order = hub.rawQueue('order');
    const jobs = await Promise.all(started.jobs.map((j) => Job.fromId(order, j.id)));
    // Member 0 twice with different results (a stalled job run again), then the rest twice, concurrently.
    await steps.record(jobs[0]!, metaOf(jobs[0]!.data), { ok: true, result: { invoiceId: 'first' } });
    await steps.record(jobs[0]!, metaOf(jobs[0]!.data), { ok: true, result: { invoiceId: 'second' } });
    await Promise.all([1, 2, 1, 2].map((i) => steps.record(jobs[i]!, metaOf(jobs[i]!.data), { ok: true, result: { invoiceId: `n${i}` } })));
    const fields = await hub.redis.hgetall(workflowKey(hub.prefix, started.workflowId));
    expect(fields.done).toBe('3');
    expect(fields['q:3']).toBe('1');
    const callbacks = (await order.getJobs()).filter((j) => j.name === 'order.summarizeResults');
    expect(callbacks.map((j) => j.id)).toEqual([stepJobId('order', started.workflowId, 3)]);
    expect(callbacks[0]!.data.results).toEqual([
      { index: 0, ok: true, result: { invoiceId: 'first' } },
      { index: 1, ok: true, result: { invoiceId: 'n1' } },
      { index: 2, ok: true, result: { invoiceId: 'n2' } },
    ]);
    // Even once the callback job is gone (retention), a late re-run does not add it again.
    await callbacks[0]!.remove();
    await steps.record(jobs[2]!, metaOf(jobs[2]!.data), { ok: true, result: {} });
    expect((await order.getJobs()).filter((j) => j.name === 'order.summarizeResults')).toHaveLength(0);
  });

  it('a crash between recording a step and enqueueing the next is repaired by the re-run, which enqueues it once', async () => {
    const started = await hub.producer.chain([
      { task: 'order.generateInvoice', payload: { orderId: randomUUID() } },
      { task: 'cart.markCheckedOut', payload: { cartId: randomUUID() }, from: { orderId: 'invoiceId' } },
    ]);
    const key = workflowKey(hub.prefix, started.workflowId);
    const orderId = randomUUID();
    // The worker recorded step 0 and died before it enqueued step 1: the script answers, nothing is added.
    expect(await recordStep(hub.redis, key, 0, true, JSON.stringify({ invoiceId: orderId }))).toMatchObject({ next: 'next', step: 1 });
    expect(await hub.rawQueue('cart').getJobs()).toHaveLength(0);
    // The stalled job's re-run records again (another result: ignored) and gets the same answer.
    const steps = createWorkflowSteps({ redis: hub.redis, prefix: hub.prefix, log: createLogger({ name: 't', level: 'silent' }) });
    const job = (await Job.fromId(hub.rawQueue('order'), started.jobs[0]!.id))!;
    await steps.record(job, metaOf(job.data), { ok: true, result: { invoiceId: randomUUID() } });
    await steps.record(job, metaOf(job.data), { ok: true, result: { invoiceId: randomUUID() } });
    const next = await hub.rawQueue('cart').getJobs();
    expect(next.map((j) => j.id)).toEqual([stepJobId('cart', started.workflowId, 1)]);
    expect(next[0]!.data.orderId).toBe(orderId);
    expect(await hub.redis.hget(key, 'q:1')).toBe('1');
  });

  it('a member that expires before it starts (failing outside the processor) fails its group too', async () => {
    const started = await hub.producer.group([{ task: 'order.generateInvoice', payload: { orderId: randomUUID() } }]);
    const job = (await Job.fromId(hub.rawQueue('order'), started.jobs[0]!.id))!;
    await job.updateData({ ...job.data, [META_KEY]: { ...job.data[META_KEY], expiresAt: Date.now() - 1_000 } });
    await hub.startWorker();
    const failure = (await hub.producer.waitFor(started).catch((e: unknown) => e)) as WorkflowFailedError;
    expect(failure).toBeInstanceOf(WorkflowFailedError);
    expect((failure.result as MemberResult[])[0]).toMatchObject({ index: 0, ok: false, error: expect.stringMatching(/^expired/) });
    expect((await hub.producer.getJob(started.jobs[0]!.id))?.workflow).toEqual({ id: started.workflowId, step: 0 });
  });

  it('cancelWorkflow: the workflow fails as cancelled, its waiting jobs are removed, and nothing is enqueued after', async () => {
    const ids = [randomUUID(), randomUUID()];
    const started = await hub.producer.chord(
      ids.map((orderId) => ({ task: 'order.generateInvoice' as const, payload: { orderId } })),
      { task: 'order.summarizeResults', payload: {}, from: { results: '$' } },
      { onMemberFailure: 'continue' },
    );
    const order = hub.rawQueue('order');
    const member = (await Job.fromId(order, started.jobs[0]!.id))!;
    const cancelled = await hub.producer.cancelWorkflow(started.workflowId, { reason: 'customer left' });
    expect(cancelled).toMatchObject({ outcome: 'cancelled', jobs: [{ id: started.jobs[0]!.id, outcome: 'removed' }, { id: started.jobs[1]!.id, outcome: 'removed' }] });
    expect(await order.getJobs()).toHaveLength(0);
    // A member that was running meanwhile and records afterwards enqueues nothing.
    const steps = createWorkflowSteps({ redis: hub.redis, prefix: hub.prefix, log: createLogger({ name: 't', level: 'silent' }) });
    await steps.record(member, metaOf(member.data), { ok: true, result: {} });
    await steps.record(member, { ...metaOf(member.data), workflow: { id: started.workflowId, step: 1 } }, { ok: true, result: {} });
    expect(await order.getJobs()).toHaveLength(0);
    await expect(hub.producer.waitFor(started)).rejects.toThrow('cancelled: customer left');
    expect((await hub.producer.cancelWorkflow(started.workflowId))?.outcome).toBe('finished');
    expect(await hub.producer.cancelWorkflow('no-such-workflow')).toBeUndefined();
  });

  it('bad input anywhere refuses the whole workflow: clear error, 0 jobs, no workflow state', async () => {
    const ok = { task: 'order.generateInvoice' as const, payload: { orderId: randomUUID() } };
    const unknown = hub.producer.group([ok, ok, { task: 'order.generateInvoce', payload: {} } as never]);
    await expect(unknown).rejects.toThrow(UnknownTaskError);
    await expect(unknown).rejects.toThrow(/did you mean "order\.generateInvoice"\?.*members\.2/);
    const badPayload = hub.producer.chain([ok, { task: 'cart.markCheckedOut', payload: { cartId: 'not-a-uuid', orderId: randomUUID() } }]);
    await expect(badPayload).rejects.toThrow(InvalidWorkflowError);
    await expect(badPayload).rejects.toMatchObject({ step: 'steps.1', fields: [{ path: 'steps.1.payload.cartId' }] });
    const missingField = hub.producer.chain([ok, { task: 'cart.markCheckedOut', payload: { cartId: randomUUID() }, from: { orderID: 'invoiceId' } as never }]);
    await expect(missingField).rejects.toThrow(/cart\.markCheckedOut has no payload field "orderID" \(did you mean "orderId"\?\)/);
    const unmapped = hub.producer.chain([ok, { task: 'cart.markCheckedOut', payload: { cartId: randomUUID() }, from: {} }]);
    await expect(unmapped).rejects.toMatchObject({ fields: [{ path: 'steps.1.payload.orderId' }] });
    const fromFirst = hub.producer.startWorkflow({ type: 'group', members: [{ ...ok, from: { orderId: 'x' } }] });
    await expect(fromFirst).rejects.toThrow(/only a chain's later steps and a chord's callback take a previous result/);
    await expect(hub.producer.startWorkflow({ type: 'fan-out', members: [ok] })).rejects.toThrow(InvalidWorkflowError);
    await expect(hub.producer.startWorkflow({ type: 'chain', steps: [] })).rejects.toThrow(InvalidWorkflowError);
    expect(await allJobs(hub)).toHaveLength(0);
    expect((await hub.keys()).filter((k) => k.startsWith(`{${hub.prefix}-wf:`))).toEqual([]);
  });

  it('refuses a workflow over the size limit, naming the limit (default 10,000; configurable)', async () => {
    const member = { task: 'order.generateInvoice' as const, payload: { orderId: randomUUID() } };
    await expect(hub.producer.group(Array.from({ length: 10_001 }, () => member))).rejects.toThrow(/10001 members: a workflow may have at most 10000/);
    const small = createProducer({ redisUrl: testRedisUrl(), prefix: hub.prefix, service: 'test', maxWorkflowMembers: 3 });
    try {
      await expect(small.chain([member, member, member, member])).rejects.toMatchObject({ limit: 3, message: expect.stringMatching(/4 steps: a workflow may have at most 3/) });
      expect((await small.group([member, member, member])).jobs).toHaveLength(3);
    } finally {
      await small.close();
    }
    expect((await allJobs(hub)).length).toBe(3);
  });

  it('a start repeated with its workflowId adds nothing twice; another spec under the id is a conflict', async () => {
    const member = { task: 'order.generateInvoice' as const, payload: { orderId: randomUUID() } };
    const first = await hub.producer.group([member, member], { workflowId: 'nightly-invoices-1' });
    expect(await hub.producer.group([member, member], { workflowId: 'nightly-invoices-1' })).toEqual(first);
    await expect(hub.producer.group([member], { workflowId: 'nightly-invoices-1' })).rejects.toThrow(WorkflowConflictError);
    expect((await allJobs(hub)).map((j) => j.id).sort()).toEqual(first.jobs.map((j) => j.id).sort());
    expect(await hub.producer.getWorkflow('nightly-invoices-1')).toMatchObject({ state: 'running', steps: [{ state: 'enqueued' }, { state: 'enqueued' }] });
    expect(await hub.producer.getWorkflow('no-such-workflow')).toBeUndefined();
  });
});
