import { createHash } from 'node:crypto';
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Attributes, type Link, type Span, type Tracer } from '@opentelemetry/api';
import type { Job } from 'bullmq';
import { maxAttemptsOf } from '../job-options.ts';
import type { JobMeta } from '../job-meta.ts';
import { withRootTraceId } from './root-trace-id.ts';
import { formatTraceparent, parseTraceparent, storableTracestate, traceIdOf } from './traceparent.ts';

export type AttemptOutcome = 'completed' | 'retrying' | 'failed' | 'interrupted' | 'deferred';

/** One outgoing HTTP call of an attempt: the headers it carries, and its client span's end. */
export interface TracedCall {
  headers: Record<string, string>;
  end(status?: number, error?: Error): void;
}

/**
 * The trace of one attempt: its span (a child of the job's enqueue span) when this process
 * traces, or, when it does not, the job's stored trace context passed through to its log
 * lines, HTTP calls and the jobs it enqueues.
 */
export interface AttemptTrace {
  readonly traceId: string;
  /** What the attempt's calls and enqueues continue: its span, or the stored context. */
  readonly traceparent: string;
  readonly tracestate?: string;
  call(service: string, method: string, url: URL): TracedCall;
  end(outcome: AttemptOutcome, error?: Error): void;
}

const NOOP_CALL_END = () => {};
const passThrough = (traceparent: string, tracestate: string | undefined): AttemptTrace => {
  const headers: Record<string, string> = tracestate ? { traceparent, tracestate } : { traceparent };
  return { traceId: traceIdOf(traceparent), traceparent, tracestate, call: () => ({ headers, end: NOOP_CALL_END }), end: () => {} };
};

/** The same for every attempt of one job (its queue, id and creation time), random-looking: keeps a root job's retries in one trace. */
const jobTraceId = (job: Job): string => createHash('sha256').update(`${job.queueName}\0${job.id}\0${job.timestamp}`).digest('hex').slice(0, 32);

const failed = (span: Span, error: Error) => {
  span.setStatus({ code: SpanStatusCode.ERROR, message: error.message });
  span.setAttribute('error.type', error.name || 'Error');
};

const traced = (tracer: Tracer, span: Span): AttemptTrace => {
  const own = span.spanContext();
  const tracestate = storableTracestate(own.traceState?.serialize());
  const parentOfCalls = trace.setSpan(ROOT_CONTEXT, span);
  return {
    traceId: own.traceId,
    traceparent: formatTraceparent(own),
    tracestate,
    call(service, method, url) {
      const attributes: Attributes = {
        'http.request.method': method,
        // Path only: query strings may carry data.
        'url.full': `${url.origin}${url.pathname}`,
        'server.address': url.hostname,
        'task_hub.service': service,
      };
      if (url.port) attributes['server.port'] = Number(url.port);
      const client = tracer.startSpan(method, { kind: SpanKind.CLIENT, attributes }, parentOfCalls);
      const context = client.spanContext();
      const headers: Record<string, string> = { traceparent: formatTraceparent(context) };
      const state = context.traceState?.serialize();
      if (state) headers.tracestate = state;
      return {
        headers,
        end(status, error) {
          if (status !== undefined) client.setAttribute('http.response.status_code', status);
          if (error) failed(client, error);
          else if (status !== undefined && status >= 400) {
            client.setStatus({ code: SpanStatusCode.ERROR });
            client.setAttribute('error.type', String(status));
          }
          client.end();
        },
      };
    },
    end(outcome, error) {
      span.setAttribute('task_hub.outcome', outcome);
      if (error) failed(span, error);
      span.end();
    },
  };
};

/**
 * Starts the attempt's trace, or returns undefined when there is nothing to trace (no tracer and
 * no stored context: the plain, untraced job pays one property check). A job's stored `trace`
 * is the enqueue span: the attempt becomes its child. A scheduled run has none; it starts its
 * own trace, linked to the span beat recorded when it set up the entry (`scheduleTrace`).
 */
export const startAttemptTrace = (job: Job, meta: JobMeta, tracer: Tracer | undefined): AttemptTrace | undefined => {
  const parent = meta.trace === undefined ? undefined : parseTraceparent(meta.trace, meta.tracestate);
  if (!tracer) return parent ? passThrough(meta.trace!, meta.tracestate) : undefined;
  const attributes: Attributes = {
    'messaging.system': 'bullmq',
    'messaging.operation.type': 'process',
    'messaging.destination.name': job.queueName,
    'messaging.message.id': job.id!,
    'task_hub.task': job.name,
    'task_hub.attempt': job.attemptsMade + 1,
    'task_hub.max_attempts': maxAttemptsOf(job.opts),
  };
  if (meta.requestId !== undefined) attributes['task_hub.request_id'] = meta.requestId;
  if (meta.schedule !== undefined) attributes['task_hub.schedule'] = meta.schedule;
  const name = `process ${job.name}`;
  if (parent) return traced(tracer, tracer.startSpan(name, { kind: SpanKind.CONSUMER, attributes }, trace.setSpanContext(ROOT_CONTEXT, parent)));
  const entry = meta.scheduleTrace === undefined ? undefined : parseTraceparent(meta.scheduleTrace);
  const links: Link[] | undefined = entry ? [{ context: entry, attributes: { 'task_hub.schedule': meta.schedule ?? '' } }] : undefined;
  return traced(tracer, withRootTraceId(jobTraceId(job), () => tracer.startSpan(name, { kind: SpanKind.CONSUMER, attributes, links, root: true }, ROOT_CONTEXT)));
};
