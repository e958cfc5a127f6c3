import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { queues } from '../../queues.config.ts';
import { readAudit } from '../../src/core/audit-log.ts';
import { useTestHub } from '../helpers/test-hub.ts';
import { tokenOf, useDashboard } from './dashboard-harness.ts';

const hub = useTestHub();
const dash = useDashboard(() => hub.prefix, { maxBodyBytes: 16 * 1024 });
const checkout = { bearer: tokenOf('checkout') };
const ops = { bearer: tokenOf('ops') };

type Started = { workflowId: string; type: 'chain' | 'group' | 'chord'; jobs: { step: number; id: string; task: string; queue: string }[] };
type Refused = { error: { code: string; message: string; fields?: { path: string; message: string }[]; step?: string; limit?: number } };

const invoice = (orderId: string = randomUUID()) => ({ task: 'order.generateInvoice', payload: { orderId } });
const chord = (members: object[]) => ({ type: 'chord', members, callback: { task: 'order.summarizeResults', payload: { label: 'api' }, from: { results: '$' } } });
const jobCount = async () => (await Promise.all(Object.keys(queues).map((q) => hub.rawQueue(q).getJobs()))).flat().length;

describe('POST /api/v1/workflows', () => {
  it('answers 202 with the workflow id and its first jobs; GET /api/v1/workflows/{id} follows it to the result', async () => {
    hub.services.order.reply('POST', '/api/orders/:id/invoice', { status: 201, body: { invoiceId: 'INV-1' } });
    const res = await dash.post('/api/v1/workflows', chord([invoice(), invoice()]), checkout, { 'x-request-id': 'req-wf-1' });
    expect(res.status).toBe(202);
    const body = (await res.json()) as Started;
    expect(res.headers.get('location')).toBe(`/api/v1/workflows/${body.workflowId}`);
    expect(body).toMatchObject({ type: 'chord', jobs: [{ step: 0, task: 'order.generateInvoice', queue: 'order' }, { step: 1 }] });
    expect(await hub.producer.waitFor(body)).toEqual({ label: 'api', total: 2, succeeded: 2, failed: [] });

    const state = await dash.get(`/api/v1/workflows/${body.workflowId}`, checkout);
    expect(state.status).toBe(200);
    const info = (await state.json()) as { state: string; result: unknown; steps: { role: string; state: string; jobId: string; boardUrl: string }[] };
    expect(info.state).toBe('completed');
    expect(info.steps.map((s) => [s.role, s.state])).toEqual([['member', 'completed'], ['member', 'completed'], ['callback', 'completed']]);
    expect(info.steps[0]!.jobId).toBe(body.jobs[0]!.id);
    expect(info.steps[2]!.boardUrl).toMatch(/^\/queue\/order\/order\.wf-/);
    const job = await hub.producer.getJob(info.steps[2]!.jobId);
    expect(job?.requestId).toBe('req-wf-1');
  });

  it('the same Idempotency-Key starts the workflow once; the board reader and the schema are there', async () => {
    const spec = { type: 'group', members: [invoice(), invoice()] };
    hub.services.order.reply('POST', '/api/orders/:id/invoice', { status: 201, body: { invoiceId: 'INV-1' } });
    const first = (await (await dash.post('/api/v1/workflows', spec, checkout, { 'idempotency-key': 'nightly-7' })).json()) as Started;
    const again = await dash.post('/api/v1/workflows', spec, checkout, { 'idempotency-key': 'nightly-7' });
    expect(again.status).toBe(202);
    expect(((await again.json()) as Started).workflowId).toBe(first.workflowId);
    const other = await dash.post('/api/v1/workflows', { type: 'group', members: [invoice()] }, checkout, { 'idempotency-key': 'nightly-7' });
    expect(other.status).toBe(409);
    expect(await dash.get(`/api/v1/workflows/${first.workflowId}`, 'admin')).toHaveProperty('status', 200);
    const described = (await (await dash.get('/api/v1/workflows', checkout)).json()) as { schema: { oneOf?: unknown[]; anyOf?: unknown[] }; maxMembers: number };
    expect(described.maxMembers).toBe(10_000);
    expect(described.schema.oneOf ?? described.schema.anyOf).toHaveLength(3);
  });

  it('refuses bad input with the API error shape and adds 0 jobs', async () => {
    const unknown = await dash.post('/api/v1/workflows', { type: 'chain', steps: [invoice(), { task: 'order.generateInvoce', payload: {} }] }, ops);
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as Refused).error).toMatchObject({ code: 'unknown_task', message: expect.stringMatching(/did you mean "order\.generateInvoice"\?.*steps\.1/) });

    const bad = await dash.post('/api/v1/workflows', { type: 'group', members: [invoice(), invoice('nope')] }, ops);
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as Refused).error).toMatchObject({ code: 'invalid_workflow', step: 'members.1', fields: [{ path: 'members.1.payload.orderId' }] });

    const mapping = await dash.post('/api/v1/workflows', { type: 'chain', steps: [invoice(), { task: 'order.sendConfirmation', payload: { email: 'a@b.co' }, from: { order: 'invoiceId' } }] }, ops);
    expect(mapping.status).toBe(400);
    expect(((await mapping.json()) as Refused).error.message).toMatch(/order\.sendConfirmation has no payload field "order"/);

    const shape = await dash.post('/api/v1/workflows', { type: 'chord', members: [invoice()] }, ops);
    expect(shape.status).toBe(400);
    expect(((await shape.json()) as Refused).error).toMatchObject({ code: 'invalid_workflow', fields: [{ path: 'callback' }] });

    const tooBig = await dash.post('/api/v1/workflows', { type: 'group', members: Array.from({ length: 10_001 }, () => ({ task: 'order.generateInvoice', payload: {} })) }, ops);
    expect(tooBig.status).toBe(413);
    expect(((await tooBig.json()) as Refused).error).toMatchObject({ code: 'workflow_too_large', limit: 10_000 });

    expect(await jobCount()).toBe(0);
  });

  it('needs the scope of every task the workflow names; unknown workflow ids are 404', async () => {
    const res = await dash.post('/api/v1/workflows', { type: 'chain', steps: [invoice(), { task: 'cart.markCheckedOut', payload: { cartId: randomUUID() }, from: { orderId: 'invoiceId' } }] }, checkout);
    expect(res.status).toBe(403);
    expect(((await res.json()) as Refused).error).toMatchObject({ code: 'forbidden', message: expect.stringContaining('cart.markCheckedOut') });
    expect((await dash.post('/api/v1/workflows', chord([invoice()]), { bearer: tokenOf('auth-svc') })).status).toBe(403);
    expect((await dash.post('/api/v1/workflows', chord([invoice()]))).status).toBe(401);
    expect(await jobCount()).toBe(0);
    const missing = await dash.get('/api/v1/workflows/no-such-workflow', ops);
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as Refused).error.code).toBe('workflow_not_found');
  });

  it('DELETE /api/v1/workflows/{id} needs the cancel scope of every task; the workflow then fails as cancelled', async () => {
    await hub.stopWorker();
    const started = (await (await dash.post('/api/v1/workflows', chord([invoice(), invoice()]), checkout)).json()) as Started;
    const refused = await dash.request('DELETE', `/api/v1/workflows/${started.workflowId}`, { as: checkout });
    expect(refused.status).toBe(403);
    const res = await dash.request('DELETE', `/api/v1/workflows/${started.workflowId}?reason=wrong%20batch`, { as: { bearer: tokenOf('support') } });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ workflowId: started.workflowId, outcome: 'cancelled', jobs: [{ outcome: 'removed' }, { outcome: 'removed' }] });
    await expect(hub.producer.waitFor(started)).rejects.toThrow('cancelled: wrong batch');
    expect(await jobCount()).toBe(0);
    expect((await dash.request('DELETE', '/api/v1/workflows/nope', { as: { bearer: tokenOf('support') } })).status).toBe(404);
  });

  it("DELETE /api/v1/workflows/{id}: the board's admin login may (reason in the body), the read-only one and other sites may not; each cancel is audited as who asked", async () => {
    await hub.stopWorker();
    const started = (await (await dash.post('/api/v1/workflows', chord([invoice()]), checkout)).json()) as Started;
    const path = `/api/v1/workflows/${started.workflowId}`;
    expect((await dash.request('DELETE', path, { as: 'viewer' })).status).toBe(403);
    expect((await dash.request('DELETE', path, { as: 'admin', headers: { origin: 'https://evil.example' } })).status).toBe(403);
    const badReason = await dash.request('DELETE', path, { as: 'admin', json: { reason: 'two\nlines' } });
    expect(badReason.status).toBe(400);
    expect(((await badReason.json()) as Refused).error.fields).toEqual([{ path: 'reason', message: expect.stringMatching(/^control characters/) }]);
    // The board's control page (/hub/api) refuses it the same way, rather than failing with a 500.
    const pageBadReason = await dash.request('DELETE', `/hub/api/workflows/${started.workflowId}?reason=${encodeURIComponent('two\nlines')}`, { as: 'admin' });
    expect(pageBadReason.status).toBe(400);
    expect(((await pageBadReason.json()) as Refused).error.fields).toEqual([{ path: 'reason', message: expect.stringMatching(/^control characters/) }]);
    expect((await hub.producer.getWorkflow(started.workflowId))?.state).toBe('running');

    const res = await dash.request('DELETE', path, { as: 'admin', json: { reason: 'duplicate order' } });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ outcome: 'cancelled', jobs: [{ id: started.jobs[0]!.id, outcome: 'removed' }] });
    await expect(hub.producer.waitFor(started)).rejects.toThrow('cancelled: duplicate order');
    const entries = (await readAudit(hub.redis, hub.prefix)).map((e) => `${e.who} ${e.action} ${e.target} ${e.outcome}`);
    expect(entries.slice(0, 2)).toEqual([`board:admin workflow.cancel ${started.workflowId} cancelled`, `board:admin job.cancel ${started.jobs[0]!.id} removed`]);
    // Once over, a second cancel changes nothing: the workflow is finished, its step's cancel answers as the first did.
    expect(await (await dash.request('DELETE', path, { as: { bearer: tokenOf('support') } })).json()).toMatchObject({ outcome: 'finished', jobs: [{ id: started.jobs[0]!.id, outcome: 'removed' }] });
  });
});
