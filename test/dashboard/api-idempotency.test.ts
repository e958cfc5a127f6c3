import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { payloadOf } from '../../src/core/job-meta.ts';
import { useTestHub } from '../helpers/test-hub.ts';
import { tokenOf, useDashboard } from './dashboard-harness.ts';

const hub = useTestHub({ worker: false });
const dash = useDashboard(() => hub.prefix);
const checkout = { bearer: tokenOf('checkout') };
const ops = { bearer: tokenOf('ops') };
type Accepted = { id: string; requestId: string };
type Refused = { error: { code: string; message: string; jobId?: string; idempotencyKey?: string } };

describe('Idempotency-Key on POST /api/v1/tasks/{name}', () => {
  it('a repeat answers the job\'s first request id, in the body and X-Request-ID, not the repeat\'s', async () => {
    const key = `cancel-${randomUUID()}`;
    const send = (requestId: string) => dash.post('/api/v1/tasks/order.cancelUnpaidOrders', { olderThanMinutes: 10_080 }, checkout, { 'idempotency-key': key, 'x-request-id': requestId });
    const first = await send('req-first');
    const repeat = await send('req-repeat');
    expect([first.status, repeat.status]).toEqual([202, 202]);
    const [a, b] = [(await first.json()) as Accepted, (await repeat.json()) as Accepted];
    expect(b).toEqual(a);
    expect(b.requestId).toBe('req-first');
    expect(repeat.headers.get('x-request-id')).toBe('req-first');
    expect((await hub.producer.getJob(a.id))!.requestId).toBe('req-first');
  });

  it('a repeat with another payload is 409 naming the key, the task and the job; the first job stands', async () => {
    const key = `cancel-${randomUUID()}`;
    const send = (olderThanMinutes: number) => dash.post('/api/v1/tasks/order.cancelUnpaidOrders', { olderThanMinutes }, checkout, { 'idempotency-key': key });
    const first = (await (await send(10_080)).json()) as Accepted;
    const conflict = await send(30);
    expect(conflict.status).toBe(409);
    const { error } = (await conflict.json()) as Refused;
    expect(error.code).toBe('idempotency_conflict');
    expect(error.message).toContain(key);
    expect(error.message).toContain('order.cancelUnpaidOrders');
    expect(error.jobId).toBe(first.id);
    expect(await hub.rawQueue('order').getJobCounts('wait')).toEqual({ wait: 1 });
    expect(payloadOf((await hub.rawQueue('order').getJob(first.id))!.data)).toEqual({ olderThanMinutes: 10_080 });
  });

  it('keys are scoped to the client: another client cannot claim (or read back) a key first', async () => {
    const key = `order-confirmation-${randomUUID()}`;
    const body = { orderId: randomUUID(), email: 'ada@example.com' };
    const squatted = await dash.post('/api/v1/tasks/order.sendConfirmation', { ...body, email: 'eve@example.com' }, ops, { 'idempotency-key': key });
    expect(squatted.status).toBe(202);
    const mine = await dash.post('/api/v1/tasks/order.sendConfirmation', body, checkout, { 'idempotency-key': key });
    expect(mine.status).toBe(202);
    const [theirs, ours] = [(await squatted.json()) as Accepted, (await mine.json()) as Accepted];
    expect(ours.id).not.toBe(theirs.id);
    expect(payloadOf((await hub.rawQueue('order').getJob(ours.id))!.data)).toEqual(body);
    expect((await hub.producer.getJob(ours.id))!.service).toBe('api:checkout');
  });
});
