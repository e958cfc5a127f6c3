import { AsyncLocalStorage } from 'node:async_hooks';

/** What code running inside a job (a got hook, a log call) can learn about that job. */
export interface JobScope {
  jobId: string;
  queue: string;
  task: string;
  attempt: number;
  requestId: string;
  idempotencyKey: string;
  schedule?: string;
}

const storage = new AsyncLocalStorage<JobScope>();

export const runInJob = <R>(scope: JobScope, fn: () => R): R => storage.run(scope, fn);

export const currentJob = (): JobScope | undefined => storage.getStore();
