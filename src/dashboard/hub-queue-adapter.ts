import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import type { QueueAdapterOptions, QueueJobOptions } from '@bull-board/api/typings/app';
import { Job, type Queue } from 'bullmq';
import { catalog, type TaskName } from '../contracts/index.ts';
import { queueSpecOf } from '../core/job-options.ts';
import { payloadOf } from '../core/job-meta.ts';
import { redactFields } from '../core/redact.ts';
import type { Producer } from '../producer/index.ts';
import { boardJobDataSchema, contractsOnQueue } from './task-schemas.ts';

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

  override async addJob(name: string, data: unknown, options: QueueJobOptions & { priority?: number } = {}): Promise<Job> {
    const { id } = await this.producer.enqueue(name as TaskName, payloadOf(data) as never, {
      ...(options.delay ? { delayMs: options.delay } : {}),
      ...(options.priority ? { priority: options.priority } : {}),
    });
    const job = await Job.fromId(this.hubQueue, id);
    if (!job) throw new Error(`job ${id} vanished right after it was added`);
    return job;
  }

  override async getJobSchedulers() {
    const schedulers = await super.getJobSchedulers();
    return schedulers.map((s) =>
      s.template?.data ? { ...s, template: { ...s.template, data: redactFields(s.template.data, sensitiveOf(s.name)) } } : s,
    );
  }
}
