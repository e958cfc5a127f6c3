import { createTraceState, TraceFlags, type SpanContext } from '@opentelemetry/api';

/**
 * W3C Trace Context (https://www.w3.org/TR/trace-context/): the `traceparent` a job carries in
 * its `$hub` metadata and a task's HTTP calls send. Written and read here, not through the
 * global propagator, so the stored form stays W3C whatever propagator a service registers.
 */
const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;
const ZERO_TRACE = '0'.repeat(32);
const ZERO_SPAN = '0'.repeat(16);

export const formatTraceparent = ({ traceId, spanId, traceFlags }: SpanContext): string =>
  `00-${traceId}-${spanId}-${traceFlags & TraceFlags.SAMPLED ? '01' : '00'}`;

/** The span context a traceparent names (remote), or undefined when it is not a valid one: W3C says ignore those. */
export const parseTraceparent = (value: string, tracestate?: string): SpanContext | undefined => {
  const m = TRACEPARENT.exec(value.trim());
  if (!m) return undefined;
  const [, version, traceId, spanId, flags, rest] = m as unknown as [string, string, string, string, string, string | undefined];
  // Version 00 has exactly four fields; ff is forbidden; a later version may append fields.
  if (version === 'ff' || (version === '00' && rest !== undefined)) return undefined;
  if (traceId === ZERO_TRACE || spanId === ZERO_SPAN) return undefined;
  const context: SpanContext = { traceId, spanId, traceFlags: parseInt(flags, 16) & TraceFlags.SAMPLED, isRemote: true };
  if (tracestate) context.traceState = createTraceState(tracestate);
  return context;
};

/** The trace id of a traceparent already known to be valid. */
export const traceIdOf = (traceparent: string): string => traceparent.slice(3, 35);

/** W3C caps tracestate at 512 characters; a longer one is dropped (the job's `$hub` holds no more). */
export const MAX_TRACESTATE = 512;
export const storableTracestate = (value: string | undefined): string | undefined => (value && value.length <= MAX_TRACESTATE ? value : undefined);

/**
 * Trace context from incoming headers (the HTTP API), as enqueue options: a traceparent that is
 * not valid W3C is ignored, as the spec says, and the job starts a trace of its own.
 */
export const incomingTrace = (traceparent: string | undefined, tracestate: string | undefined): { traceparent: string; tracestate?: string } | undefined => {
  if (!traceparent || !parseTraceparent(traceparent)) return undefined;
  const state = storableTracestate(tracestate);
  return state ? { traceparent: traceparent.trim(), tracestate: state } : { traceparent: traceparent.trim() };
};
