import { context, isSpanContextValid, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type SpanContext } from '@opentelemetry/api';
import { formatTraceparent, storableTracestate } from './traceparent.ts';
import { sdkTracer } from './tracer.ts';

/** What an enqueue stores in the job's `$hub` (its attempts' parent) and ends once Redis answered. */
export interface EnqueueTrace {
  traceparent: string;
  tracestate?: string;
  end(error?: unknown, jobId?: string): void;
}

const NOTHING_TO_END = () => {};

/**
 * The enqueue's span, a child of `parent` (a traceparent the caller passed) or of the caller's
 * active span; a root when there is neither. Without an SDK in this process no span is made, and
 * a parent is passed through as it is, so the job still belongs to its caller's trace. Nothing at
 * all when there is neither an SDK nor a parent.
 */
export const startEnqueueTrace = (what: string, queue: string, parent?: SpanContext): EnqueueTrace | undefined => {
  const tracer = sdkTracer();
  const parentContext = parent ? trace.setSpanContext(ROOT_CONTEXT, parent) : context.active();
  if (!tracer) {
    const through = parent ?? trace.getSpanContext(parentContext);
    if (!through || !isSpanContextValid(through)) return undefined;
    return { traceparent: formatTraceparent(through), tracestate: storableTracestate(through.traceState?.serialize()), end: NOTHING_TO_END };
  }
  const span = tracer.startSpan(
    `enqueue ${what}`,
    { kind: SpanKind.PRODUCER, attributes: { 'messaging.system': 'bullmq', 'messaging.operation.type': 'send', 'messaging.destination.name': queue, 'task_hub.task': what } },
    parentContext,
  );
  const spanContext = span.spanContext();
  return {
    traceparent: formatTraceparent(spanContext),
    tracestate: storableTracestate(spanContext.traceState?.serialize()),
    end(error, jobId) {
      if (jobId) span.setAttribute('messaging.message.id', jobId);
      if (error) {
        const err = error as Error;
        span.setStatus({ code: SpanStatusCode.ERROR, message: err.message });
        span.setAttribute('error.type', err.name ?? 'Error');
      }
      span.end();
    },
  };
};

/** Ends the trace when `added` settles, and passes its outcome on unchanged. */
export const endWhenSettled = <T>(trace: EnqueueTrace, added: Promise<T>, idOf: (value: T) => string | undefined): Promise<T> =>
  added.then(
    (value) => (trace.end(undefined, idOf(value)), value),
    (err: unknown) => {
      trace.end(err);
      throw err;
    },
  );
