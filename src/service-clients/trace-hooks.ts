import type { AfterResponseHook, BeforeErrorHook, BeforeRequestHook } from 'got';
import type { AttemptTrace, TracedCall } from '../core/tracing/attempt-trace.ts';

type TraceContext = { trace?: AttemptTrace; call?: TracedCall };

/**
 * A job's call carries its trace (job-clients.ts puts it in got's per-request `context`): the
 * call gets a client span, a child of the attempt's, and sends it as `traceparent`. Without
 * tracing, a trace context that came with the job is passed on as it is. Calls of untraced jobs
 * pay one property check.
 */
export const traceHooks = (service: string): { beforeRequest: BeforeRequestHook; afterResponse: AfterResponseHook; beforeError: BeforeErrorHook } => ({
  beforeRequest(options) {
    const context = options.context as TraceContext;
    if (!context.trace) return;
    const call = context.trace.call(service, options.method, options.url as URL);
    Object.assign(options.headers, call.headers);
    context.call = call;
  },
  afterResponse(response) {
    const context = response.request.options.context as TraceContext;
    context.call?.end(response.statusCode);
    context.call = undefined;
    return response;
  },
  beforeError(error) {
    const context = error.options?.context as TraceContext | undefined;
    if (context?.call) {
      context.call.end(error.response?.statusCode, error);
      context.call = undefined;
    }
    return error;
  },
});
