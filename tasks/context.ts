import type { z } from 'zod';
import type { AnyContract } from '../src/contracts/index.ts';
import type { JobScope } from '../src/core/job-context.ts';
import type { Logger } from '../src/core/logger.ts';
import type { ServiceClients } from '../src/http/services.ts';
import type { Producer } from '../src/producer/index.ts';

/** What a handler gets beside its parsed input. */
export interface TaskContext {
  job: JobScope & { maxAttempts: number };
  /** Aborts at the task's timeout or on shutdown; pass it to every call that can take time. */
  signal: AbortSignal;
  log: Logger;
  http: ServiceClients;
  /** Chain by name: tasks never import each other. */
  enqueue: Producer['enqueue'];
  enqueueMany: Producer['enqueueMany'];
  /** Progress kept on the job, so a retry can skip work a previous attempt finished. */
  progress: { read(): unknown; save(value: object): Promise<void> };
}

export interface TaskHandler<C extends AnyContract = AnyContract> {
  contract: C;
  run(input: z.output<C['schema']>, ctx: TaskContext): Promise<unknown>;
}

export const handle = <C extends AnyContract>(
  contract: C,
  run: (input: z.output<C['schema']>, ctx: TaskContext) => Promise<unknown>,
): TaskHandler => ({ contract, run: run as TaskHandler['run'] });
