import { endWhenSettled, startEnqueueTrace, type EnqueueTrace } from '../core/tracing/enqueue-trace.ts';
import { parseTraceparent } from '../core/tracing/traceparent.ts';
import type { EnqueueOptions } from './types.ts';

export { endWhenSettled, type EnqueueTrace };

/**
 * The enqueue's trace (src/core/tracing/enqueue-trace.ts): a child of the traceparent the
 * options name, else of the caller's active span. A traceparent that is not W3C is refused
 * before Redis is touched, naming the option.
 */
export const enqueueTrace = (what: string, queue: string, opts: EnqueueOptions | undefined): EnqueueTrace | undefined => {
  const traceparent = opts?.traceparent;
  if (traceparent === undefined) return startEnqueueTrace(what, queue);
  const parent = typeof traceparent === 'string' ? parseTraceparent(traceparent, opts?.tracestate) : undefined;
  if (!parent) {
    const shown = JSON.stringify(traceparent)?.slice(0, 80);
    throw new TypeError(`enqueue ${what}: options.traceparent ${shown} is not a W3C traceparent (00-<32 hex trace id>-<16 hex span id>-<2 hex flags>)`);
  }
  return startEnqueueTrace(what, queue, parent);
};
