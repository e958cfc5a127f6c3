import { got, type Got, type RequestError } from 'got';
import type { JobScope } from '../core/job-context.ts';

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

/**
 * A got client for one microservice. The request id and an idempotency key derived from the
 * job travel on every call; got does not retry, because BullMQ owns the retry budget and backoff.
 */
export const createServiceClient = (service: string, prefixUrl: string, timeoutMs: number): Got =>
  got.extend({
    prefixUrl,
    timeout: { request: timeoutMs },
    retry: { limit: 0 },
    headers: { 'user-agent': 'task-hub' },
    hooks: {
      beforeRequest: [
        (options) => {
          // Calls made through a job's ctx.http carry the job in their context (job-clients.ts).
          const { job } = options.context as { job?: JobScope };
          if (!job) return;
          options.headers['x-request-id'] = job.requestId;
          options.headers['idempotency-key'] = job.idempotencyKey;
        },
      ],
      beforeError: [describe(service)],
    },
  });
