import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { catalog } from '../../src/contracts/index.ts';
import { useTestHub } from '../helpers/test-hub.ts';
import { tokenOf, useDashboard } from './dashboard-harness.ts';

const hub = useTestHub();
const dash = useDashboard(() => hub.prefix, { maxBodyBytes: 16 * 1024 });
const checkout = { bearer: tokenOf('checkout') };
const ops = { bearer: tokenOf('ops') };
const errorOf = async (res: Response) => ((await res.json()) as { error: { code: string; message: string; fields?: { path: string }[] } }).error;

describe('POST /api/v1/tasks/{name}', () => {
  it('enqueues with the caller request id, for the worker to run', async () => {
    const orderId = randomUUID();
    hub.services.order.reply('POST', '/api/orders/:id/invoice', { status: 201, body: { invoiceId: 'INV-9' } });
    const res = await dash.post('/api/v1/tasks/order.generateInvoice', { orderId }, checkout, { 'x-request-id': 'req-42' });
    expect(res.status).toBe(202);
    const body = (await res.json()) as { id: string; task: string; queue: string; requestId: string };
    expect(body).toMatchObject({ task: 'order.generateInvoice', queue: 'order', requestId: 'req-42' });
    expect(body.id).toMatch(/^order\./);
    expect(res.headers.get('location')).toBe(`/api/v1/jobs/${body.id}`);
    await expect(hub.finished(body.id)).resolves.toEqual({ invoiceId: 'INV-9' });
    const call = hub.services.order.calls('POST', `/api/orders/${orderId}/invoice`)[0]!;
    expect(call.headers['x-request-id']).toBe('req-42');
    const job = (await (await dash.get(`/api/v1/jobs/${body.id}`, checkout)).json()) as Record<string, unknown>;
    expect(job).toMatchObject({ id: body.id, state: 'completed', attemptsMade: 1, result: { invoiceId: 'INV-9' }, service: 'api:checkout', requestId: 'req-42' });
  });

  it('enqueues once per Idempotency-Key', async () => {
    const key = `order-${randomUUID()}`;
    const send = () => dash.post('/api/v1/tasks/order.cancelUnpaidOrders', {}, checkout, { 'idempotency-key': key });
    const [a, b] = [await send(), await send()];
    expect([a.status, b.status]).toEqual([202, 202]);
    expect(((await a.json()) as { id: string }).id).toBe(((await b.json()) as { id: string }).id);
  });

  it('answers 401 without a token or with a wrong one, and 403 outside the token scope', async () => {
    const path = '/api/v1/tasks/order.generateInvoice';
    const payload = { orderId: randomUUID() };
    const none = await dash.post(path, payload);
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toBe('Bearer realm="task-hub"');
    expect((await errorOf(none)).code).toBe('missing_token');
    const wrong = await dash.post(path, payload, { bearer: `${tokenOf('checkout')}x` });
    expect(wrong.status).toBe(401);
    expect((await errorOf(wrong)).code).toBe('invalid_token');
    // Dashboard logins read through the API but do not enqueue.
    expect((await dash.post(path, payload, 'admin')).status).toBe(401);
    const scoped = await dash.post('/api/v1/tasks/auth.revokeUserSessions', { userId: randomUUID(), reason: 'user-request' }, checkout);
    expect(scoped.status).toBe(403);
    expect((await errorOf(scoped)).message).toMatch(/checkout.*auth\.revokeUserSessions/);
    // A task named in the scope is allowed even though its domain is not.
    expect((await dash.post('/api/v1/tasks/cart.recalculateTotals', { cartId: randomUUID() }, checkout)).status).toBe(202);
    expect((await dash.post('/api/v1/tasks/cart.purgeExpiredCarts', {}, checkout)).status).toBe(403);
  });

  it('answers 404 for an unknown task, with a suggestion', async () => {
    const res = await dash.post('/api/v1/tasks/order.generateInvoce', {}, ops);
    expect(res.status).toBe(404);
    expect((await errorOf(res)).message).toMatch(/did you mean "order.generateInvoice"/);
  });

  it('answers 400 naming every invalid field', async () => {
    const res = await dash.post('/api/v1/tasks/order.sendConfirmation', { orderId: 'nope', email: 'not-mail', coupon: 'X' }, checkout);
    expect(res.status).toBe(400);
    const error = await errorOf(res);
    expect(error.code).toBe('invalid_payload');
    expect(error.fields!.map((f) => f.path).sort()).toEqual(['coupon', 'email', 'orderId']);
    expect(await hub.rawQueue('order').count()).toBe(0);
  });

  it('rejects prototype-polluting keys, at any depth', async () => {
    for (const body of ['{"__proto__":{"admin":true}}', '{"productIds":[{"constructor":{"prototype":{}}}]}']) {
      const res = await dash.request('POST', '/api/v1/tasks/product.reindex', { as: ops, body, headers: { 'content-type': 'application/json' } });
      expect(res.status, body).toBe(400);
      expect((await errorOf(res)).message).toMatch(/__proto__|constructor/);
    }
    expect(({} as Record<string, unknown>).admin).toBeUndefined();
  });

  it('answers 413 over the size limit, 415 for non-JSON, 400 for broken JSON', async () => {
    const big = await dash.post('/api/v1/tasks/product.reindex', { productIds: Array.from({ length: 1_000 }, () => randomUUID()) }, ops);
    expect(big.status).toBe(413);
    expect((await errorOf(big)).code).toBe('payload_too_large');
    const text = await dash.request('POST', '/api/v1/tasks/product.reindex', { as: ops, body: 'productIds=1', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(text.status).toBe(415);
    const broken = await dash.request('POST', '/api/v1/tasks/product.reindex', { as: ops, body: '{"productIds":', headers: { 'content-type': 'application/json' } });
    expect(broken.status).toBe(400);
    expect((await errorOf(broken)).code).toBe('invalid_json');
  });

  it('treats an empty body as {} for tasks whose fields all have defaults', async () => {
    const res = await dash.request('POST', '/api/v1/tasks/cart.purgeExpiredCarts', { as: ops });
    expect(res.status).toBe(202);
  });
});

describe('reading jobs and the catalog', () => {
  it('GET /jobs/{id}: a failed job with its reason; 404 unknown; 403 out of scope; sensitive fields redacted', async () => {
    hub.services.order.reply('POST', '/api/orders/:id/invoice', 404);
    const failed = await hub.producer.enqueue('order.generateInvoice', { orderId: randomUUID() });
    await expect(hub.finished(failed)).rejects.toThrow();
    const info = (await (await dash.get(`/api/v1/jobs/${failed.id}`, checkout)).json()) as Record<string, unknown>;
    expect(info).toMatchObject({ state: 'failed', attemptsMade: 1, task: 'order.generateInvoice' });
    expect(info.failedReason).toMatch(/404/);

    expect((await dash.get(`/api/v1/jobs/order.${randomUUID()}`, checkout)).status).toBe(404);
    expect((await dash.get('/api/v1/jobs/..%2F..%2Fetc', checkout)).status).toBe(404);

    const reset = await hub.producer.enqueue('auth.sendPasswordResetEmail', { userId: randomUUID(), email: 'a@b.co', resetToken: 'secret-reset-token-123' });
    expect((await dash.get(`/api/v1/jobs/${reset.id}`, checkout)).status).toBe(403);
    const readable = await dash.get(`/api/v1/jobs/${reset.id}`, { bearer: tokenOf('auth-svc') });
    const text = await readable.text();
    expect(readable.status).toBe(200);
    expect(text).not.toContain('secret-reset-token-123');
    expect(JSON.parse(text).payload.resetToken).toBe('[redacted]');
  });

  it('GET /jobs?task=&state=: finds a task\'s jobs by state, for tokens and dashboard logins', async () => {
    await hub.stopWorker();
    const jobs = await hub.producer.enqueueMany([
      { task: 'order.generateInvoice', payload: { orderId: randomUUID() } },
      { task: 'order.cancelUnpaidOrders', payload: {} },
      { task: 'order.generateInvoice', payload: { orderId: randomUUID() } },
    ]);
    const res = await dash.get('/api/v1/jobs?task=order.generateInvoice&state=waiting', 'viewer');
    expect(res.status).toBe(200);
    const found = (await res.json()) as { jobs: { id: string; boardUrl: string }[]; complete: boolean };
    expect(found.jobs.map((j) => j.id).sort()).toEqual([jobs[0]!.id, jobs[2]!.id].sort());
    expect(found.complete).toBe(true);
    expect(found.jobs[0]!.boardUrl).toMatch(/^\/queue\/order\/order\./);
    const limited = (await (await dash.get('/api/v1/jobs?task=order.generateInvoice&state=waiting&limit=1', checkout)).json()) as { jobs: unknown[] };
    expect(limited.jobs).toHaveLength(1);
    expect((await dash.get('/api/v1/jobs?task=order.generateInvoice&state=bogus', checkout)).status).toBe(400);
    expect((await dash.get('/api/v1/jobs?task=auth.revokeUserSessions&state=failed', checkout)).status).toBe(403);
    expect((await dash.get('/api/v1/jobs?task=order.generateInvoice&state=waiting')).status).toBe(401);
  });

  it('GET /tasks: every task with its JSON Schema and an example the contract accepts', async () => {
    const res = await dash.get('/api/v1/tasks', { bearer: tokenOf('auth-svc') });
    expect(res.status).toBe(200);
    const { tasks } = (await res.json()) as { tasks: { name: string; queue: string; schema: { type: string; properties: object }; example: unknown; sensitive: string[] }[] };
    expect(tasks.map((t) => t.name).sort()).toEqual(Object.keys(catalog).sort());
    for (const t of tasks) {
      const contract = catalog[t.name as keyof typeof catalog];
      expect(t.queue).toBe(contract.queue);
      expect(t.schema.type).toBe('object');
      expect(contract.schema.safeParse(t.example).success, t.name).toBe(true);
    }
    const reset = tasks.find((t) => t.name === 'auth.sendPasswordResetEmail')!;
    expect(reset.sensitive).toEqual(['resetToken']);
    expect(reset.schema.properties).toHaveProperty('resetToken');
  });
});

describe('the board over the hub', () => {
  it('redacts sensitive fields in job data, and keeps them when a job is edited', async () => {
    await hub.stopWorker();
    const job = await hub.producer.enqueue('auth.sendPasswordResetEmail', { userId: randomUUID(), email: 'a@b.co', resetToken: 'secret-reset-token-123' });
    const shown = await (await dash.get(`/api/queues/auth/${job.id}`, 'viewer')).text();
    expect(shown).not.toContain('secret-reset-token-123');
    expect(JSON.parse(shown).job.data.resetToken).toBe('[redacted]');
    const listed = await (await dash.get('/api/queues?activeQueue=auth&status=latest&page=1&jobsPerPage=10', 'admin')).text();
    expect(listed).toContain(job.id);
    expect(listed).not.toContain('secret-reset-token-123');

    const edited = { ...JSON.parse(shown).job.data, email: 'c@d.co' };
    const res = await dash.request('PATCH', `/api/queues/auth/${job.id}/update-data`, { as: 'admin', json: { jobData: edited } });
    expect(res.status).toBe(200);
    const stored = (await hub.rawQueue('auth').getJob(job.id))!.data as Record<string, unknown>;
    expect(stored).toMatchObject({ email: 'c@d.co', resetToken: 'secret-reset-token-123' });
  });

  it('redacts sensitive fields in scheduler templates on the schedulers page', async () => {
    await hub.stopWorker();
    const data = { userId: randomUUID(), email: 'a@b.co', resetToken: 'secret-scheduled-token-1' };
    await hub.rawQueue('auth').upsertJobScheduler('reset-reminder', { every: 3_600_000 }, { name: 'auth.sendPasswordResetEmail', data });
    const res = await dash.get('/api/job-schedulers', 'viewer');
    const text = await res.text();
    expect(res.status).toBe(200);
    expect(text).toContain('reset-reminder');
    expect(text).not.toContain('secret-scheduled-token-1');
    expect(JSON.parse(text).schedulers[0].template.data.resetToken).toBe('[redacted]');
  });

  it('checks jobs added from the board against the contract, and adds them through the producer', async () => {
    await hub.stopWorker();
    const add = (name: string, data: unknown) => dash.request('POST', '/api/queues/order/add', { as: 'admin', json: { name, data, options: {} } });
    const invalid = await add('order.generateInvoice', { orderId: 'nope' });
    expect(invalid.status).toBe(400);
    expect(JSON.stringify(await invalid.json())).toMatch(/orderId/);
    const elsewhere = await add('auth.purgeExpiredSessions', {});
    expect(elsewhere.status).toBe(400);
    expect(JSON.stringify(await elsewhere.json())).toMatch(/must be a task of queue \\"order\\": order.sendConfirmation/);
    expect((await add('__default__', {})).status).toBe(400);
    const ok = await add('order.generateInvoice', { orderId: randomUUID() });
    expect(ok.status).toBe(200);
    const { job } = (await ok.json()) as { job: { id: string; opts: { attempts: number } } };
    expect(job.id).toMatch(/^order\./);
    expect(job.opts.attempts).toBe(catalog['order.generateInvoice'].retry?.attempts ?? 5);
    expect((await hub.producer.getJob(job.id))!.service).toBe('dashboard');
  });

  it('gives the add-job form each queue\'s task schemas', async () => {
    const res = await dash.get('/api/queues/order/job-data-schema', 'admin');
    const schema = (await res.json()) as { anyOf: { title: string }[]; examples: unknown[] };
    expect(schema.anyOf.map((s) => s.title)).toEqual(['order.sendConfirmation', 'order.generateInvoice', 'order.cancelUnpaidOrders', 'order.summarizeResults']);
    expect(catalog['order.sendConfirmation'].schema.safeParse(schema.examples[0]).success).toBe(true);
  });
});
