import type { Got } from 'got';
import type { JobScope } from '../core/job-context.ts';
import type { ServiceClients } from './services.ts';

const METHODS = new Set<PropertyKey>(['get', 'post', 'put', 'patch', 'head', 'delete']);

/** got(url, options?) and got(options): put the job into the options' `context`. */
const withJob = (args: unknown[], job: JobScope): unknown[] => {
  const at = typeof args[0] === 'string' || args[0] instanceof URL ? 1 : 0;
  const options = (args[at] ?? {}) as { context?: Record<string, unknown> };
  const next = [...args];
  next[at] = { ...options, context: { ...options.context, job } };
  return next;
};

const bind = (client: Got, job: JobScope): Got =>
  new Proxy(client, {
    apply: (target, self, args: unknown[]) => Reflect.apply(target, self, withJob(args, job)),
    get(target, key, receiver) {
      const value = Reflect.get(target, key, receiver) as unknown;
      return METHODS.has(key) ? (...args: unknown[]) => (value as (...a: unknown[]) => unknown)(...withJob(args, job)) : value;
    },
  });

/**
 * The service clients as one job sees them: every call carries the job in got's `context`, where
 * the client's hook reads the request id and idempotency key. This replaces an AsyncLocalStorage
 * scope per job: on Node 20 an active AsyncLocalStorage hooks every promise and async resource
 * in the process (about 15 µs per job in the worker's CPU profile), and only HTTP calls need it.
 */
export const clientsForJob = (clients: ServiceClients, job: JobScope): ServiceClients =>
  new Proxy(clients, {
    get(target, key, receiver) {
      const client = Reflect.get(target, key, receiver) as unknown;
      return typeof client === 'function' ? bind(client as Got, job) : client;
    },
  });
