import { got, type Got, type BeforeRequestHook, type RequestError } from 'got';
import { backPressureOf } from '../core/flow/back-pressure.ts';
import type { CallContext } from './call-context.ts';
import { backPressureFromError, flowHooks, type ServiceFlow } from './flow-hooks.ts';
import { traceHooks } from './trace-hooks.ts';

/** Names the service, method, path and status in every error; query strings may carry data and are left out. */
const describe = (service: string) => (error: RequestError): RequestError => {
  const { method, url } = error.options;
  const path = url ? new URL(url).pathname : '?';
  const status = error.response?.statusCode;
  error.message = status
    ? `${service} service ${method} ${path} answered ${status} ${error.response?.statusMessage ?? ''}`.trimEnd()
    : `${service} service ${method} ${path} failed: ${error.code ?? error.message}`;
  return error;
};

/** Calls made through a job's ctx.http carry the job in their context (job-clients.ts): its request id and idempotency key. */
const jobHeaders: BeforeRequestHook = (options) => {
  const { job } = options.context as CallContext;
  if (!job) return;
  options.headers['x-request-id'] = job.requestId;
  options.headers['idempotency-key'] = job.idempotencyKey;
};

/**
 * A got client for one microservice. The request id and an idempotency key derived from the
 * job travel on every call; got does not retry, because BullMQ owns the retry budget and backoff.
 * A 429/503 with Retry-After defers the job (flow-hooks.ts); a service with limits or a pool
 * (`flow`) also takes its turn from Redis before each call.
 */
export const createServiceClient = (service: string, prefixUrl: string, timeoutMs: number, flow?: ServiceFlow): Got => {
  const limited = flow && (flow.gate || flow.pool) ? flowHooks(service, flow) : undefined;
  const described = describe(service);
  const backPressure = backPressureFromError(service, flow);
  const tracing = traceHooks(service);
  return got.extend({
    prefixUrl,
    timeout: { request: timeoutMs },
    retry: { limit: 0 },
    headers: { 'user-agent': 'task-hub' },
    hooks: {
      // got awaits each hook in turn: a service without limits gets one hook, not three.
      beforeRequest: limited
        ? // The turn first (it may wait): the call's span then times the call, not the wait.
          [jobHeaders, limited.beforeRequest, tracing.beforeRequest]
        : [
            (options, context) => {
              void jobHeaders(options, context);
              void tracing.beforeRequest(options, context);
            },
          ],
      afterResponse: limited ? [tracing.afterResponse, limited.afterResponse] : [tracing.afterResponse],
      beforeError: [
        async (error) => {
          limited?.beforeError(error);
          // A call that would wait longer than its job should be held: the hook's error, unwrapped.
          const pressure = backPressureOf(error);
          if (pressure) return pressure;
          // After describe: the span's error names service, method and path, as the job's does.
          return backPressure(tracing.beforeError(described(error)) as RequestError);
        },
      ],
    },
  });
};
