import { UnrecoverableError, WaitingError, type Job, type Processor } from 'bullmq';
import { TaskTimeoutError, UnknownTaskError } from '../core/errors.ts';
import { didYouMean } from '../core/did-you-mean.ts';
import { runInJob } from '../core/job-context.ts';
import { idempotencyKeyOf, metaOf, payloadOf, requestIdOf } from '../core/job-meta.ts';
import type { Logger } from '../core/logger.ts';
import { parsePayload } from '../core/validate.ts';
import { classifyHttpError } from '../http/classify.ts';
import type { ServiceClients } from '../http/services.ts';
import type { Producer } from '../producer/index.ts';
import type { TaskContext } from '../../tasks/context.ts';
import type { Registry } from './registry.ts';

export interface JobOutcome {
  task: string;
  queue: string;
  ok: boolean;
  durationMs: number;
}

export interface DispatchDeps {
  registry: Registry;
  http: ServiceClients;
  producer: Producer;
  log: Logger;
  /** Called once per finished attempt (metrics); must not throw or block. */
  onOutcome?: (outcome: JobOutcome) => void;
  /** True once shutdown began: aborted jobs go back to wait instead of spending an attempt. */
  isShuttingDown: () => boolean;
}

const lookUp = (registry: Registry, job: Job) => {
  const handler = registry.get(job.name);
  if (!handler) throw new UnknownTaskError(job.name, didYouMean(job.name, registry.keys()));
  if (handler.contract.queue !== job.queueName) {
    throw new UnknownTaskError(job.name, ` on queue "${job.queueName}": it runs on "${handler.contract.queue}"`);
  }
  return handler;
};

/** Rejects when the signal aborts, so a handler that ignores its signal still ends at the timeout. */
const whenAborted = (signal: AbortSignal) =>
  new Promise<never>((_, reject) => signal.addEventListener('abort', () => reject(signal.reason), { once: true }));

/** The BullMQ processor for one queue: look up, parse, run in context, classify the error. */
export const createProcessor = (deps: DispatchDeps): Processor => {
  const { registry, http, producer, log, onOutcome } = deps;
  return async (job: Job, token?: string, workerSignal?: AbortSignal) => {
    const started = performance.now();
    const meta = metaOf(job.data);
    const scope = {
      jobId: job.id!,
      queue: job.queueName,
      task: job.name,
      attempt: job.attemptsMade + 1,
      maxAttempts: job.opts.attempts ?? 1,
      requestId: requestIdOf(meta, job.queueName, job.id!),
      idempotencyKey: idempotencyKeyOf(meta, job.queueName, job.id!),
      ...(meta.schedule ? { schedule: meta.schedule } : {}),
    };
    const jobLog = log.child(scope);
    let timer: NodeJS.Timeout | undefined;
    try {
      const handler = lookUp(registry, job);
      const input = parsePayload(handler.contract, payloadOf(job.data));
      const timeout = new AbortController();
      const { timeoutMs } = handler.contract;
      timer = setTimeout(() => timeout.abort(new TaskTimeoutError(job.name, timeoutMs)), timeoutMs);
      const signal = workerSignal ? AbortSignal.any([workerSignal, timeout.signal]) : timeout.signal;
      const ctx: TaskContext = {
        job: scope,
        signal,
        log: jobLog,
        http,
        enqueue: (task, payload, opts) => producer.enqueue(task, payload, { requestId: scope.requestId, ...opts }),
        enqueueMany: (items) =>
          producer.enqueueMany(items.map((i) => ({ ...i, options: { requestId: scope.requestId, ...i.options } }))),
        progress: { read: () => job.progress, save: (value) => job.updateProgress(value) },
      };
      const result = await runInJob(scope, () => Promise.race([handler.run(input, ctx), whenAborted(signal)]));
      const durationMs = performance.now() - started;
      jobLog.info({ durationMs: Math.round(durationMs) }, 'task succeeded');
      onOutcome?.({ task: job.name, queue: job.queueName, ok: true, durationMs });
      return result;
    } catch (raw) {
      if (deps.isShuttingDown() && workerSignal?.aborted && token) {
        // Interrupted by shutdown: back to wait, the attempt is not spent.
        await job.moveToWait(token);
        jobLog.warn('task interrupted by shutdown; returned to the queue');
        throw new WaitingError();
      }
      const err = classifyHttpError(raw) as Error;
      const durationMs = performance.now() - started;
      const final = err instanceof UnrecoverableError || scope.attempt >= scope.maxAttempts;
      jobLog[final ? 'error' : 'warn'](
        { durationMs: Math.round(durationMs), error: err.message, errorType: err.name, final },
        final ? 'task failed' : 'task attempt failed; will retry',
      );
      onOutcome?.({ task: job.name, queue: job.queueName, ok: false, durationMs });
      throw err;
    } finally {
      clearTimeout(timer);
    }
  };
};
