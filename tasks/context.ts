import type { z } from 'zod';
import type { AnyContract } from '../src/contracts/index.ts';
import type { PoolName } from '../src/core/flow/lease.ts';
import type { JobScope } from '../src/core/job-scope.ts';
import type { Logger } from '../src/core/logger.ts';
import type { ServiceClients } from '../src/service-clients/services.ts';
import type { Producer } from '../src/producer/index.ts';

/** What a handler gets beside its parsed input. */
export interface TaskContext {
  job: JobScope;
  /**
   * Aborts at the task's timeout, on cancel or on shutdown. `http` calls need not get it (they are
   * cancelled with the attempt); pass it to other work that can take time (fetch, child processes).
   */
  signal: AbortSignal;
  log: Logger;
  /** The services' got clients, bound to this attempt: request id, idempotency key, trace; cancelled when it aborts. */
  http: ServiceClients;
  /** Chain by name: tasks never import each other. */
  enqueue: Producer['enqueue'];
  enqueueMany: Producer['enqueueMany'];
  /** Workflows by name, as the producer's (README, "Workflows"); their jobs carry this job's request id. */
  chain: Producer['chain'];
  group: Producer['group'];
  chord: Producer['chord'];
  /**
   * Runs `use` with an item of a pool of pools.config.ts that no other call of the fleet holds,
   * then lets the item rest for the pool's cooldown. A long wait for an item defers the job.
   */
  lease<T>(pool: PoolName, use: (item: string) => Promise<T>): Promise<T>;
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
