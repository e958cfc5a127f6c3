/**
 * A trace id for the next root span, taken by the hub's IdGenerator (src/tracing/). Attempts of a
 * job that carries no trace context (a plain BullMQ client's job, a scheduled run) start root
 * spans; giving each of them the same trace id, derived from the job, keeps a job's retries in
 * one trace. The SDK generates a root span's trace id inside startSpan, synchronously, so the
 * slot is set and cleared around that one call. Under another SDK (a test's) the hint is unused.
 */
let hint: string | undefined;

export const withRootTraceId = <T>(traceId: string, start: () => T): T => {
  hint = traceId;
  try {
    return start();
  } finally {
    hint = undefined;
  }
};

export const takeRootTraceId = (): string | undefined => {
  const id = hint;
  hint = undefined;
  return id;
};
