import { randomUUID } from 'node:crypto';
import { context, SpanKind, trace, type SpanContext } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queuePrefix } from '../src/core/keys.ts';
import { hubIdGenerator } from '../src/tracing/id-generator.ts';
import { OtlpReceiver, type ReceivedSpan } from './helpers/otlp-receiver.ts';
import { spawnRole, type RoleProcess } from './helpers/spawn-role.ts';
import { stubEnv, testRedisUrl, useTestHub } from './helpers/test-hub.ts';

/**
 * One trace from a calling service through the hub to the services its tasks call, across real
 * processes: this test is the calling service (an OpenTelemetry SDK of its own, the producer lib
 * inside an active span), the worker is `src/worker/main.ts` exporting OTLP/HTTP JSON to a
 * receiver here, and the stub services record the traceparent each call carried.
 */
const memory = new InMemorySpanExporter();
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(memory)], idGenerator: hubIdGenerator() });
const contextManager = new AsyncLocalStorageContextManager();
beforeAll(() => {
  trace.setGlobalTracerProvider(provider);
  context.setGlobalContextManager(contextManager.enable());
});
afterAll(async () => {
  await provider.shutdown();
  trace.disable();
  context.disable();
});

const hub = useTestHub({ worker: false });
const traceparentOf = (s: { traceId: string; spanId: string }) => `00-${s.traceId}-${s.spanId}-01`;
const local = (name: string): ReadableSpan => {
  const found = memory.getFinishedSpans().find((s) => s.name === name);
  if (!found) throw new Error(`no span "${name}" in ${memory.getFinishedSpans().map((s) => s.name).join(', ')}`);
  return found;
};
const parentIdOf = (s: ReadableSpan) => s.parentSpanContext?.spanId;

describe('a trace across the producer, a worker process, its child processes and the services', () => {
  let receiver: OtlpReceiver;
  let worker: RoleProcess | undefined;
  beforeAll(async () => {
    receiver = await OtlpReceiver.start();
  });
  afterAll(async () => {
    await receiver.close();
  });

  it('keeps every attempt (a retry, a child-process job, a job it enqueues) and every HTTP call in the caller trace', async () => {
    const orderId = randomUUID();
    const productId = randomUUID();
    const { order, product } = hub.services;
    order.reply('GET', '/api/orders/:id', { status: 503 }, { status: 200, body: { id: orderId, status: 'paid' } });
    product.reply('GET', '/api/products/:id/images', { status: 200, body: { images: [{ id: randomUUID(), url: 'https://img.example/a.jpg', width: 800, height: 600 }] } });
    product.reply('POST', '/api/products/reindex', { status: 200, body: { indexed: 1 } });

    // The calling service: a request span, inside which it enqueues two jobs.
    const { confirm, images, caller } = await trace.getTracer('checkout').startActiveSpan('POST /checkout', async (span) => {
      const confirm = await hub.producer.enqueue('order.sendConfirmation', { orderId, email: 'ada@example.com' }, { requestId: 'req-trace-1' });
      const images = await hub.producer.enqueue('product.processImages', { productId });
      span.end();
      return { confirm, images, caller: span.spanContext() };
    });
    // The image job ran when a worker died before (stalledCounter 1): the worker runs it alone in a child process.
    await hub.redis.hset(`${queuePrefix(hub.prefix, 'product-images')}:product-images:${images.id}`, 'stc', 1);

    worker = spawnRole('src/worker/main.ts', {
      REDIS_URL: testRedisUrl(),
      HUB_PREFIX: hub.prefix,
      ...stubEnv(hub.services),
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_BSP_SCHEDULE_DELAY: '50',
    });
    await worker.waitForLine(/"worker ready"/);
    await expect(hub.finished(confirm)).resolves.toEqual({ sent: true });
    await expect(hub.finished(images)).resolves.toEqual({ images: 1 });
    const processes = (task: string) => receiver.spans.filter((s) => s.name === `process ${task}`);
    await receiver.waitFor(() => processes('order.sendConfirmation').length === 2 && processes('product.reindex').length === 1 && processes('product.processImages').length === 1);
    worker.child.kill('SIGTERM');
    expect((await worker.exited).code).toBe(0);

    // In the calling service: the enqueue spans are children of its request span.
    const enqueueConfirm = local('enqueue order.sendConfirmation');
    const enqueueImages = local('enqueue product.processImages');
    for (const s of [enqueueConfirm, enqueueImages]) {
      expect(s.kind).toBe(SpanKind.PRODUCER);
      expect(s.spanContext().traceId).toBe(caller.traceId);
      expect(parentIdOf(s)).toBe(caller.spanId);
    }
    expect(enqueueConfirm.attributes['messaging.message.id']).toBe(confirm.id);
    const inTrace = receiver.spans.filter((s) => s.traceId === caller.traceId);
    expect(inTrace.length).toBe(receiver.spans.length);

    // Each attempt a consumer span under the enqueue span: the failed one and its retry.
    const attempts = processes('order.sendConfirmation').sort((a, b) => Number(a.attributes['task_hub.attempt']) - Number(b.attributes['task_hub.attempt']));
    expect(attempts.map((s) => [s.parentSpanId, s.kind, s.attributes['task_hub.attempt'], s.attributes['task_hub.outcome'], s.status.code ?? 0])).toEqual([
      [enqueueConfirm.spanContext().spanId, 5, 1, 'retrying', 2],
      [enqueueConfirm.spanContext().spanId, 5, 2, 'completed', 0],
    ]);
    expect(attempts[0]!.attributes).toMatchObject({ 'messaging.message.id': confirm.id, 'task_hub.request_id': 'req-trace-1', 'messaging.destination.name': 'order' });

    // Every call a client span under its attempt, and the service got that span as traceparent.
    const clientsOf = (attempt: ReceivedSpan) => receiver.spans.filter((s) => s.kind === 3 && s.parentSpanId === attempt.spanId);
    expect(clientsOf(attempts[0]!).map((s) => [s.name, s.attributes['http.response.status_code'], s.status.code])).toEqual([['GET', 503, 2]]);
    expect(clientsOf(attempts[1]!).map((s) => [s.name, s.attributes['http.response.status_code']])).toEqual([['GET', 200], ['POST', 200]]);
    const sent = [...order.requests, ...product.requests].map((r) => r.headers.traceparent);
    const clientSpans = receiver.spans.filter((s) => s.kind === 3);
    expect(sent.sort()).toEqual(clientSpans.map(traceparentOf).sort());
    expect(order.requests.length + product.requests.length).toBe(clientSpans.length);

    // The job that ran in a child process, the job it enqueued (ctx.enqueue) and that job's attempt.
    const [imagesAttempt] = processes('product.processImages');
    expect(imagesAttempt!.parentSpanId).toBe(enqueueImages.spanContext().spanId);
    expect(imagesAttempt!.service).toBe('task-hub-worker');
    expect(clientsOf(imagesAttempt!).map((s) => s.name).sort()).toEqual(['GET', 'POST']);
    const enqueueReindex = receiver.spans.find((s) => s.name === 'enqueue product.reindex');
    expect(enqueueReindex?.parentSpanId).toBe(imagesAttempt!.spanId);
    const [reindexAttempt] = processes('product.reindex');
    expect(reindexAttempt!.parentSpanId).toBe(enqueueReindex!.spanId);
    expect(clientsOf(reindexAttempt!).map((s) => s.name)).toEqual(['POST']);

    // The worker's log lines of the job name the trace, next to job and request id.
    const done = worker.lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.jobId === confirm.id);
    expect(done.map((l) => [l.msg, l.requestId, l.traceId])).toEqual([
      ['task attempt failed; will retry', 'req-trace-1', caller.traceId],
      ['task succeeded', 'req-trace-1', caller.traceId],
    ]);
    expect(new Set(receiver.contentTypes)).toEqual(new Set(['application/json']));
  }, 60_000);
});
