import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import type { QueueAdapterOptions, QueueJobOptions } from '@bull-board/api/typings/app';
import { Job, type Queue } from 'bullmq';
import { z } from 'zod';
import { catalog, type TaskName } from '../contracts/index.ts';
import { queueSpecOf } from '../core/job-options.ts';
import { metaOf, payloadOf } from '../core/job-meta.ts';
import { redactFields } from '../core/redact.ts';
import { problemsOf } from '../core/validate.ts';
import type { Producer } from '../producer/index.ts';
import { boardJobDataSchema, contractsOnQueue } from './task-schemas.ts';

/** BullMQ's own limit. */
const MAX_PRIORITY = 2 ** 21 - 1;
/** Longer is a typo, and BullMQ's delayed-set scores lose precision not far beyond. */
export const MAX_DELAY_MS = 365 * 86_400_000;

/**
 * What the board may set on a job it adds; other options are the contract's (retries) or the
 * hub's (job id, retention) and are ignored, as the README says.
 */
const BoardJobOptions = z.looseObject({
  delay: z.number().int().min(0).max(MAX_DELAY_MS, 'at most a year').optional(),
  priority: z.number().int().min(0).max(MAX_PRIORITY).optional(),
});

/** An error Bull Board answers with its statusCode. */
class BoardInputError extends Error {
  readonly statusCode = 400;
}

const parseOptions = (options: unknown) => {
  const parsed = BoardJobOptions.safeParse(options ?? {});
  const problem = parsed.success ? undefined : problemsOf(parsed.error).fields.map((f) => `options.${f.path}: ${f.message}`).join('; ');
  return { options: parsed.data, problem };
};

/** Why the options of a board add are refused, or undefined. */
export const optionsProblem = (options: unknown): string | undefined => parseOptions(options).problem;

/** Top-level fields any task of the queue marks sensitive: the board's formatter sees data, not the task. */
const sensitiveOn = (queue: string): string[] => [...new Set(contractsOnQueue(queue).flatMap((c) => c.sensitive))];

export const sensitiveOf = (task: string): readonly string[] =>
  (catalog as Record<string, { sensitive: readonly string[] }>)[task]?.sensitive ?? [];

/**
 * Bull Board's BullMQ adapter, hub-flavoured: sensitive fields are redacted wherever the board
 * shows job data (jobs and scheduler templates), the add-job form gets the queue's task schemas,
 * and jobs added from the board go through the producer (validation, retry policy, hub job ids).
 */
export class HubQueueAdapter extends BullMQAdapter {
  private readonly hubQueue: Queue;
  private readonly sensitive: string[];

  constructor(
    queue: Queue,
    private readonly producer: Producer,
    options: Partial<QueueAdapterOptions> = {},
  ) {
    super(queue, { description: queueSpecOf(queue.name).description, jobDataSchema: boardJobDataSchema(queue.name), ...options });
    this.hubQueue = queue;
    this.sensitive = sensitiveOn(queue.name);
    if (this.sensitive.length) this.setFormatter('data', (data) => redactFields(data, this.sensitive));
  }

  override async addJob(name: string, data: unknown, options: QueueJobOptions = {}): Promise<Job> {
    // The board's hook refuses bad options first; this holds for any other caller.
    const parsed = parseOptions(options);
    if (!parsed.options) throw new BoardInputError(parsed.problem);
    const { delay, priority } = parsed.options;
    const { id } = await this.producer.enqueue(name as TaskName, payloadOf(data) as never, {
      ...(delay ? { delayMs: delay } : {}),
      ...(priority ? { priority } : {}),
    });
    const job = await Job.fromId(this.hubQueue, id);
    if (!job) throw new Error(`job ${id} vanished right after it was added`);
    return job;
  }

  /** Whether beat created the scheduler from schedule.ts (its template carries beat's metadata). */
  async isBeatScheduler(id: string): Promise<boolean> {
    const meta = metaOf((await this.hubQueue.getJobScheduler(id))?.template?.data);
    return meta.service === 'beat' && meta.schedule === id;
  }

  override async getJobSchedulers() {
    const schedulers = await super.getJobSchedulers();
    return schedulers.map((s) =>
      s.template?.data ? { ...s, template: { ...s.template, data: redactFields(s.template.data, sensitiveOf(s.name)) } } : s,
    );
  }
}
