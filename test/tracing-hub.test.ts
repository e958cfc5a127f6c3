import { context, SpanKind, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBeat } from '../src/beat/run-beat.ts';
import { metaOf } from '../src/core/job-meta.ts';
import { hubIdGenerator } from '../src/tracing/id-generator.ts';
import { beatEnv, captureLog } from './beat/helpers.ts';
import { tokenOf, useDashboard } from './dashboard/dashboard-harness.ts';
import { useTestHub } from './helpers/test-hub.ts';

/** The hub's own processes with tracing on (an SDK registered here): the HTTP API, beat's scheduled runs. */
const memory = new InMemorySpanExporter();
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(memory)], idGenerator: hubIdGenerator() });
beforeAll(() => {
  trace.setGlobalTracerProvider(provider);
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
});
afterAll(async () => {
  await provider.shutdown();
  trace.disable();
  context.disable();
});

const hub = useTestHub();
const dash = useDashboard(() => hub.prefix);
const spansNamed = (name: string): ReadableSpan[] => memory.getFinishedSpans().filter((s) => s.name === name);
const CALLER = { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7' };

describe('POST /api/v1/tasks/{name} and the incoming traceparent', () => {
  const post = (headers: Record<string, string>) =>
    dash.post('/api/v1/tasks/order.generateInvoice', { orderId: crypto.randomUUID() }, { bearer: tokenOf('checkout') }, headers);

  it('continues it: the enqueue span is its child and the job carries the enqueue span', async () => {
    memory.reset();
    hub.services.order.reply('POST', '/api/orders/:id/invoice', { status: 200, body: { invoiceId: 'inv-1' } });
    const res = await post({ traceparent: `00-${CALLER.traceId}-${CALLER.spanId}-01`, tracestate: 'vendor=abc' });
    expect(res.status).toBe(202);
    const { id } = (await res.json()) as { id: string };
    const [enqueue] = spansNamed('enqueue order.generateInvoice');
    expect(enqueue!.kind).toBe(SpanKind.PRODUCER);
    expect(enqueue!.spanContext().traceId).toBe(CALLER.traceId);
    expect(enqueue!.parentSpanContext?.spanId).toBe(CALLER.spanId);
    const job = await hub.rawQueue('order').getJob(id);
    expect(metaOf(job!.data)).toMatchObject({ trace: `00-${CALLER.traceId}-${enqueue!.spanContext().spanId}-01`, tracestate: 'vendor=abc' });
    await hub.finished(id);
    const [attempt] = spansNamed('process order.generateInvoice');
    expect(attempt!.parentSpanContext?.spanId).toBe(enqueue!.spanContext().spanId);
    expect(hub.services.order.requests[0]!.headers.traceparent).toMatch(new RegExp(`^00-${CALLER.traceId}-[0-9a-f]{16}-01$`));
  });

  it('ignores one that is not W3C (as the spec says) and starts a trace of its own', async () => {
    memory.reset();
    for (const bad of [`00-${'0'.repeat(32)}-${CALLER.spanId}-01`, `00-${CALLER.traceId}-${CALLER.spanId}-01-extra`, 'garbage']) {
      const res = await post({ traceparent: bad });
      expect(res.status, bad).toBe(202);
    }
    const enqueues = spansNamed('enqueue order.generateInvoice');
    expect(enqueues).toHaveLength(3);
    for (const s of enqueues) {
      expect(s.parentSpanContext).toBeUndefined();
      expect(s.spanContext().traceId).not.toBe(CALLER.traceId);
    }
  });
});

describe('jobs fired by a schedule entry', () => {
  it('start a trace of their own, linked to the span beat recorded for the entry; a retry stays in it', async () => {
    memory.reset();
    hub.services.cart.reply('POST', '/api/carts/purge-expired', { status: 503 }, { status: 200, body: { purged: 3 } });
    await runBeat(beatEnv(hub.prefix), captureLog().log, { schedule: [{ id: 'cart-purge', task: 'cart.purgeExpiredCarts', everyMs: 3_600_000 }], once: true, print: () => {} });
    const [entry] = spansNamed('schedule cart-purge');
    expect(entry!.attributes).toMatchObject({ 'task_hub.schedule': 'cart-purge', 'task_hub.schedule.action': 'create' });

    await expect.poll(() => spansNamed('process cart.purgeExpiredCarts').length, { timeout: 15_000 }).toBe(2);
    const attempts = spansNamed('process cart.purgeExpiredCarts');
    const traceId = attempts[0]!.spanContext().traceId;
    for (const a of attempts) {
      expect(a.parentSpanContext).toBeUndefined();
      expect(a.spanContext().traceId).toBe(traceId);
      expect(a.links.map((l) => l.context.spanId)).toEqual([entry!.spanContext().spanId]);
      expect(a.attributes['task_hub.schedule']).toBe('cart-purge');
    }
    expect(traceId).not.toBe(entry!.spanContext().traceId);
    expect(attempts.map((a) => a.attributes['task_hub.outcome']).sort()).toEqual(['completed', 'retrying']);

    // Beat does not see its own span link as a change: a second round changes nothing.
    const { log, lines } = captureLog();
    await runBeat(beatEnv(hub.prefix), log, { schedule: [{ id: 'cart-purge', task: 'cart.purgeExpiredCarts', everyMs: 3_600_000 }], once: true, print: () => {} });
    expect(lines.all.filter((l) => /scheduler (created|updated|restored)/.test(l))).toEqual([]);
  }, 30_000);
});
