import type { BeforeRequestHook, RequestError, Response } from 'got';
import { BackPressureError } from '../core/flow/back-pressure.ts';
import type { FlowMetrics } from '../core/flow/flow-metrics.ts';
import type { Lease, PoolLeases } from '../core/flow/pool-leases.ts';
import { retryAfterMs } from '../core/flow/retry-after.ts';
import type { ServiceGate } from '../core/flow/service-gate.ts';
import type { CallContext } from './call-context.ts';
import { proxyAgentsFor } from './proxy-agent.ts';

/** What a service's calls go through: its limits' gate, and the pool its calls are routed through. */
export interface ServiceFlow {
  gate?: ServiceGate;
  pool?: PoolLeases;
  /** Counts 429/503 with Retry-After, for every service (on the error path only). */
  metrics?: FlowMetrics;
}

interface Held {
  ticket?: string;
  lease?: Lease;
}

/**
 * got hooks for a service with limits or a pool. Only such services get them: a call to any
 * other service runs no extra code and sends no Redis command.
 */
export const flowHooks = (service: string, { gate, pool }: ServiceFlow) => {
  // Per call (got's Options object, the same in every hook of one call).
  const held = new WeakMap<object, Held>();
  const done = (options: object | undefined) => {
    const h = options && held.get(options);
    if (!h) return;
    held.delete(options);
    if (h.ticket !== undefined) gate?.done(h.ticket);
    void h.lease?.release();
  };

  return {
    /** Takes the call's turn from Redis (and sleeps until it), then a pool item when routed through one. */
    beforeRequest: (async (options) => {
      const { budget } = options.context as CallContext;
      const signal = options.signal ?? budget?.signal;
      const h: Held = {};
      held.set(options, h);
      if (gate) h.ticket = await gate.take({ signal, expiresAt: budget?.expiresAt });
      if (pool) {
        h.lease = await pool.acquire({ signal, expiresAt: budget?.expiresAt, maxWaitMs: gate?.limits.maxWaitMs ?? 5_000 });
        options.agent = proxyAgentsFor(h.lease.item);
      }
    }) satisfies BeforeRequestHook,
    afterResponse: (response: Response) => {
      done(response.request.options);
      return response;
    },
    beforeError: (error: RequestError) => {
      done(error.options);
      return error;
    },
  };
};

/**
 * A 429 or 503 with Retry-After inside a job becomes a BackPressureError:
 * the job is deferred for that long without spending an attempt. For a service with a limit,
 * the whole fleet also holds off until then. Without Retry-After, nothing changes (retried).
 */
export const backPressureFromError = (service: string, { gate, metrics }: ServiceFlow = {}) => async (error: RequestError): Promise<Error> => {
  const status = error.response?.statusCode;
  if ((status !== 429 && status !== 503) || !(error.options?.context as CallContext | undefined)?.job) return error;
  const ms = retryAfterMs(error.response!.headers['retry-after']);
  if (ms === undefined) return error;
  metrics?.count('svc', service, 'throttled');
  await gate?.holdOff(ms, status).catch(() => undefined);
  const deferred = new BackPressureError(service, 'retry-after', Date.now() + ms, `${error.message}, with Retry-After ${Math.round(ms / 1_000)} s`);
  deferred.cause = error;
  return deferred;
};
