import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { useTestHub } from '../helpers/test-hub.ts';
import { tokenOf, useDashboard } from './dashboard-harness.ts';

const hub = useTestHub({ worker: false });
const dash = useDashboard(() => hub.prefix);
const checkout = { bearer: tokenOf('checkout') };
const path = '/api/v1/tasks/order.generateInvoice';
type Answer = { id?: string; error?: { code: string; message: string; fields?: { path: string; message: string }[] } };

const enqueue = async (headers: Record<string, string>) => {
  const res = await dash.post(path, { orderId: randomUUID() }, checkout, headers);
  return { status: res.status, body: (await res.json()) as Answer };
};

describe('POST /api/v1/tasks/{name}: expiry headers', () => {
  it('X-Expires-At (RFC 3339 or epoch ms) and X-Expires-In-Ms are stored as the job\'s expiry', async () => {
    const at = new Date(Date.now() + 3_600_000);
    const iso = await enqueue({ 'x-expires-at': at.toISOString() });
    expect(iso.status).toBe(202);
    expect((await hub.producer.getJob(iso.body.id!))?.expiresAt).toBe(at.getTime());
    const epoch = await enqueue({ 'x-expires-at': String(at.getTime()) });
    expect((await hub.producer.getJob(epoch.body.id!))?.expiresAt).toBe(at.getTime());
    const before = Date.now();
    const relative = await enqueue({ 'x-expires-in-ms': '60000' });
    expect((await hub.producer.getJob(relative.body.id!))?.expiresAt).toBeGreaterThanOrEqual(before + 60_000);
  });

  it.each([
    [{ 'x-expires-at': '2020-01-01T00:00:00Z' }, 'X-Expires-At', /X-Expires-At: 2020-01-01T00:00:00.000Z is in the past/],
    [{ 'x-expires-at': '2030-01-01 00:00' }, 'X-Expires-At', /RFC 3339 date-time with its offset/],
    [{ 'x-expires-at': '2030-01-01T00:00:00' }, 'X-Expires-At', /with its offset/],
    [{ 'x-expires-in-ms': '0' }, 'X-Expires-In-Ms', /positive whole number/],
    [{ 'x-expires-in-ms': '1.5' }, 'X-Expires-In-Ms', /positive whole number/],
    [{ 'x-expires-at': String(Date.now() + 60_000), 'x-expires-in-ms': '5' }, 'X-Expires-At', /not both/],
  ])('%o is 400 naming the header; nothing is enqueued', async (headers, field, message) => {
    const { status, body } = await enqueue(headers);
    expect(status).toBe(400);
    expect(body.error).toMatchObject({ code: 'invalid_option', fields: [{ path: field }] });
    expect(body.error!.message).toMatch(message);
    expect((await hub.keys()).filter((k) => /:(wait|id)$/.test(k))).toEqual([]);
  });
});
