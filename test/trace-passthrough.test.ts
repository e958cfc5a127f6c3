import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { metaOf } from '../src/core/job-meta.ts';
import { useTestHub } from './helpers/test-hub.ts';

/**
 * Tracing off (no OpenTelemetry SDK in this process, as in a hub without OTEL_EXPORTER_OTLP_ENDPOINT):
 * no spans, but a trace context that came with a job is passed on unchanged, so the caller's
 * trace still reaches the services and the log lines name it. A job without one costs nothing.
 */
const hub = useTestHub();
const CALLER = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
const logLines = () => hub.logs.flatMap((chunk) => chunk.split('\n').filter(Boolean)).map((l) => JSON.parse(l) as Record<string, unknown>);

describe('tracing off', () => {
  it("passes a job's trace context through to its calls, its log lines and the jobs it enqueues", async () => {
    const productId = randomUUID();
    hub.services.product.reply('GET', '/api/products/:id/images', { status: 200, body: { images: [{ id: randomUUID(), url: 'https://img.example/a.jpg', width: 10, height: 10 }] } });
    hub.services.product.reply('POST', '/api/products/reindex', { status: 200, body: { indexed: 1 } });
    const job = await hub.producer.enqueue('product.processImages', { productId }, { traceparent: CALLER, tracestate: 'vendor=1' });
    expect(metaOf((await hub.rawQueue('product-images').getJob(job.id))!.data)).toMatchObject({ trace: CALLER, tracestate: 'vendor=1' });
    await hub.finished(job);
    const reindex = await hub.services.product.waitFor('POST', '/api/products/reindex');
    for (const r of [...hub.services.product.requests]) {
      expect(r.headers.traceparent, r.path).toBe(CALLER);
      expect(r.headers.tracestate, r.path).toBe('vendor=1');
    }
    expect(reindex.headers.traceparent).toBe(CALLER);
    const attempts = logLines().filter((l) => l.msg === 'task succeeded');
    expect(attempts.map((l) => [l.task, l.traceId])).toContainEqual(['product.processImages', '0af7651916cd43dd8448eb211c80319c']);
  });

  it("passes a publish's trace context to every subscriber job, on each queue", async () => {
    hub.services.auth.reply('POST', '/api/users/:id/sessions/revoke', { status: 200, body: { revoked: 1 } });
    hub.services.auth.reply('POST', '/api/users/:id/password-changed-emails', 202);
    const published = await hub.producer.publish('auth.passwordChanged', { userId: randomUUID(), email: 'ada@example.com' }, { traceparent: CALLER });
    expect(published.jobs.length).toBeGreaterThan(1);
    await Promise.all(published.jobs.map((j) => hub.finished(j)));
    expect(hub.services.auth.requests.map((r) => r.headers.traceparent)).toEqual(published.jobs.map(() => CALLER));
    await expect(hub.producer.publish('auth.passwordChanged', { userId: randomUUID(), email: 'ada@example.com' }, { traceparent: 'nope' })).rejects.toThrow(
      /options\.traceparent "nope" is not a W3C traceparent/,
    );
  });

  it('adds nothing to a job that came without one: no metadata, no header, no log field', async () => {
    hub.services.order.reply('POST', '/api/orders/:id/invoice', { status: 200, body: { invoiceId: 'i-1' } });
    const job = await hub.producer.enqueue('order.generateInvoice', { orderId: randomUUID() });
    expect(metaOf((await hub.rawQueue('order').getJob(job.id))!.data)).toEqual({ service: 'test' });
    await hub.finished(job);
    expect(hub.services.order.requests[0]!.headers.traceparent).toBeUndefined();
    expect(logLines().find((l) => l.msg === 'task succeeded')).not.toHaveProperty('traceId');
  });

  it('refuses a traceparent option that is not W3C, naming it, before Redis is touched', async () => {
    for (const bad of ['00-xyz', `00-${'0'.repeat(32)}-b7ad6b7169203331-01`, 42 as unknown as string]) {
      await expect(hub.producer.enqueue('order.generateInvoice', { orderId: randomUUID() }, { traceparent: bad })).rejects.toThrow(
        /^enqueue order\.generateInvoice: options\.traceparent .* is not a W3C traceparent/,
      );
    }
    await expect(hub.producer.enqueueMany([{ task: 'order.generateInvoice', payload: { orderId: randomUUID() }, options: { traceparent: 'nope' } }])).rejects.toThrow(TypeError);
    expect(await hub.rawQueue('order').getJobCounts('waiting', 'active', 'completed', 'failed', 'delayed')).toEqual({ waiting: 0, active: 0, completed: 0, failed: 0, delayed: 0 });
  });
});
