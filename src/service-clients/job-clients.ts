import type { Got } from 'got';
import type { JobScope } from '../core/job-scope.ts';
import type { AttemptTrace } from '../core/tracing/attempt-trace.ts';
import type { CallBudget, Cancellable } from './call-context.ts';
import type { ServiceClients } from './services.ts';

const METHODS = new Set<PropertyKey>(['get', 'post', 'put', 'patch', 'head', 'delete']);

/** got(url, options?) and got(options): put the job (its trace and time budget, if any) into the options' `context`. */
const withJob = (args: unknown[], job: JobScope, trace: AttemptTrace | undefined, budget: CallBudget | undefined): unknown[] => {
  const at = typeof args[0] === 'string' || args[0] instanceof URL ? 1 : 0;
  const options = (args[at] ?? {}) as { context?: Record<string, unknown> };
  const next = [...args];
  next[at] = { ...options, context: { ...options.context, job, trace, budget } };
  return next;
};

/** The call as got answers it, tied to the attempt (cancelled with it), when it can be cancelled. */
const tracked = (request: unknown, budget: CallBudget | undefined): unknown => {
  if (budget && typeof (request as Partial<Cancellable>)?.cancel === 'function') budget.track(request as Cancellable);
  return request;
};

const bind = (client: Got, job: JobScope, trace: AttemptTrace | undefined, budget: CallBudget | undefined): Got =>
  new Proxy(client, {
    apply: (target, self, args: unknown[]) => tracked(Reflect.apply(target, self, withJob(args, job, trace, budget)), budget),
    get(target, key, receiver) {
      const value = Reflect.get(target, key, receiver) as unknown;
      return METHODS.has(key) ? (...args: unknown[]) => tracked((value as (...a: unknown[]) => unknown)(...withJob(args, job, trace, budget)), budget) : value;
    },
  });

/**
 * The service clients as one job sees them: every call carries the job in got's `context`, where
 * the client's hook reads the request id and idempotency key (and a limited service's hook the
 * attempt's remaining time and signal), and is cancelled when its attempt is aborted. This replaces an AsyncLocalStorage
 * scope per job: on Node 20 an active AsyncLocalStorage hooks every promise and async resource
 * in the process (README, Performance), and only HTTP calls need the job.
 */
export const clientsForJob = (clients: ServiceClients, job: JobScope, trace?: AttemptTrace, budget?: CallBudget): ServiceClients =>
  new Proxy(clients, {
    get(target, key, receiver) {
      const client = Reflect.get(target, key, receiver) as unknown;
      return typeof client === 'function' ? bind(client as Got, job, trace, budget) : client;
    },
  });
