import { Queue, type Job } from 'bullmq';
import type { WorkflowStepSpec } from '../contracts/workflow.ts';
import type { JobMeta } from '../core/job-meta.ts';
import { queuePrefix } from '../core/keys.ts';
import type { Logger } from '../core/logger.ts';
import type { RedisClient } from '../core/redis.ts';
import { clip, contractOf, parsePayload } from '../core/validate.ts';
import { markEnqueued, recordStep, workflowKey, type RecordAnswer } from '../core/workflow/scripts.ts';
import { memberResultsOf } from '../core/workflow/state.ts';
import { mappedPayload, stepJob, type StepJob } from '../core/workflow/steps.ts';

export type StepOutcome = { ok: true; result: unknown } | { ok: false; reason: string };

export interface WorkflowSteps {
  /**
   * Records a workflow job's outcome (it completed, or failed for good) in the workflow's hash and,
   * when that finished what the next step waits for, enqueues the next step. Runs inside the
   * processor, before BullMQ marks the job finished: a crash in between leaves the job to its
   * stalled re-run, which records again (counted once) and gets the same answer.
   */
  record(job: Job, meta: JobMeta, outcome: StepOutcome): Promise<void>;
}

export const createWorkflowSteps = ({ redis, prefix, log }: { redis: RedisClient; prefix: string; log: Logger }): WorkflowSteps => {
  // On the worker's connection, which they share (nothing to close of their own).
  const queues = new Map<string, Queue>();
  const queueNamed = (name: string) => {
    let queue = queues.get(name);
    if (!queue) queues.set(name, (queue = new Queue(name, { connection: redis, prefix: queuePrefix(prefix, name) })));
    return queue;
  };

  /** The next step's job, or why it cannot be enqueued (its mapping finds no value, its payload fails its schema). */
  const nextJob = (id: string, meta: JobMeta, answer: Extract<RecordAnswer, { stepJson: string }>): StepJob | string => {
    const step = JSON.parse(answer.stepJson) as WorkflowStepSpec;
    const previous = answer.next === 'next' ? JSON.parse(answer.previous) : memberResultsOf(answer.outcomes);
    try {
      const contract = contractOf(step.task);
      const inherited: JobMeta = {};
      if (meta.service) inherited.service = meta.service;
      if (meta.requestId) inherited.requestId = meta.requestId;
      return stepJob(contract, parsePayload(contract, mappedPayload(step, previous)), inherited, id, answer.step);
    } catch (err) {
      return `${step.task} was not enqueued: ${clip((err as Error).message, 1_000)}`;
    }
  };

  return {
    async record(job, meta, outcome) {
      const { id, step } = meta.workflow!;
      const key = workflowKey(prefix, id);
      const value = outcome.ok ? (JSON.stringify(outcome.result) ?? 'null') : clip(outcome.reason, 2_000);
      let answer = await recordStep(redis, key, step, outcome.ok, value);
      for (;;) {
        if (answer.next === 'gone') log.warn({ workflowId: id, step, jobId: job.id }, 'workflow not found (past its retention?): outcome not recorded');
        if (answer.next !== 'next' && answer.next !== 'callback') return;
        const next = nextJob(id, meta, answer);
        if (typeof next === 'string') {
          // The step that cannot run fails the workflow, as if it had run and failed.
          answer = await recordStep(redis, key, answer.step, false, next);
          continue;
        }
        await queueNamed(next.queue).add(next.name, next.data, next.opts);
        await markEnqueued(redis, key, answer.step);
        return;
      }
    },
  };
};
