import { createHash, randomUUID } from 'node:crypto';
import type { Queue } from 'bullmq';
import type { PayloadOf, TaskName } from '../contracts/index.ts';
import { DEFAULT_MAX_WORKFLOW_MEMBERS, WORKFLOW_ID, WorkflowSpec, type WorkflowStepSpec, type WorkflowType } from '../contracts/workflow.ts';
import { EnqueueError, InvalidWorkflowError, WorkflowConflictError } from '../core/errors.ts';
import type { JobMeta } from '../core/job-meta.ts';
import { whenReady, type RedisClient } from '../core/redis.ts';
import { isRecord } from '../core/records.ts';
import { problemsOf } from '../core/validate.ts';
import { createWorkflow, workflowKey } from '../core/workflow/scripts.ts';
import { checkStep, stepJob, type StepJob } from '../core/workflow/steps.ts';

/** A first step, a group's member: a task and its payload, checked like enqueue's. */
export type TaskStep<N extends TaskName = TaskName> = N extends TaskName ? { task: N; payload: PayloadOf<N> } : never;
/**
 * A later step of a chain, or a chord's callback: as TaskStep, or with some payload fields taken
 * from the previous result (`from: { orderId: 'order.id' }`; `'$'`: the whole result). Only payload
 * fields may be mapped; results are untyped, so paths are strings, checked when the step is enqueued.
 */
export type MappedStep<N extends TaskName = TaskName> = N extends TaskName
  ? TaskStep<N> | { task: N; payload?: Partial<PayloadOf<N>>; from: { [K in keyof PayloadOf<N> & string]?: string } }
  : never;

export interface WorkflowOptions {
  /** Names the workflow (and its jobs): starting it again with the same spec adds only what is missing. Default: a new UUID. */
  workflowId?: string;
  /** Carried by every job of the workflow as X-Request-ID. */
  requestId?: string;
}

export interface WorkflowJob {
  step: number;
  id: string;
  task: string;
  queue: string;
}

export interface StartedWorkflow {
  workflowId: string;
  type: WorkflowType;
  /** The jobs enqueued now: a chain's first step, every member of a group or chord. */
  jobs: WorkflowJob[];
}

type Guarded = <T, R = T>(what: string, work: () => Promise<T>, map?: (value: T) => R) => Promise<R>;

export interface WorkflowDeps {
  service: string;
  prefix: string;
  maxPayloadBytes: number;
  /** Most members (steps) one workflow may have. */
  maxMembers?: number;
  connection: RedisClient;
  queueNamed: (name: string) => Queue;
  guarded: Guarded;
}

const stepsOf = (spec: WorkflowSpec): readonly WorkflowStepSpec[] => (spec.type === 'chain' ? spec.steps : spec.members);

/** Refused before the whole body is parsed: a million members must not be validated one by one first. */
const checkSize = (spec: unknown, limit: number) => {
  if (!isRecord(spec)) return;
  const list = spec.type === 'chain' ? spec.steps : spec.members;
  if (Array.isArray(list) && list.length > limit) {
    const field = spec.type === 'chain' ? 'steps' : 'members';
    const message = `${list.length} ${field}: a workflow may have at most ${limit} (the producer's maxWorkflowMembers)`;
    throw new InvalidWorkflowError(message, [{ path: field, message }], 1, undefined, limit);
  }
};

/** Every job of the first stage and the hash's fields, or the error that refuses the whole workflow. Touches no Redis. */
export const prepareWorkflow = (deps: WorkflowDeps, raw: unknown, opts: WorkflowOptions) => {
  const limit = deps.maxMembers ?? DEFAULT_MAX_WORKFLOW_MEMBERS;
  checkSize(raw, limit);
  const parsed = WorkflowSpec.safeParse(raw);
  if (!parsed.success) {
    const { fields, fieldCount, text } = problemsOf(parsed.error);
    throw new InvalidWorkflowError(text, fields, fieldCount);
  }
  const spec = parsed.data;
  const id = opts.workflowId ?? randomUUID();
  if (typeof id !== 'string' || !WORKFLOW_ID.test(id)) {
    const message = `the workflow id must match ${WORKFLOW_ID}`;
    throw new InvalidWorkflowError(message, [{ path: '(workflowId)', message }], 1);
  }
  const field = spec.type === 'chain' ? 'steps' : 'members';
  const checked = stepsOf(spec).map((step, i) => checkStep(step, `${field}.${i}`, deps.maxPayloadBytes, spec.type === 'chain' && i > 0));
  const callback = spec.type === 'chord' ? checkStep(spec.callback, 'callback', deps.maxPayloadBytes, true) : undefined;
  const meta: JobMeta = { service: deps.service };
  if (opts.requestId) meta.requestId = opts.requestId;
  const written = (c: (typeof checked)[number]) => JSON.stringify(c.from ? { task: c.contract.name, payload: c.payload, from: c.from } : { task: c.contract.name, payload: c.payload });
  const stored: [string, string][] = checked.map((c, i) => [`t:${i}`, spec.type === 'chain' ? written(c) : JSON.stringify({ task: c.contract.name })]);
  if (callback) stored.push([`t:${checked.length}`, written(callback)]);
  const hash = createHash('sha256');
  for (const c of checked) hash.update(written(c)).update('\0');
  if (callback) hash.update(written(callback));
  hash.update(spec.type).update(spec.type === 'chord' ? (spec.onMemberFailure ?? 'stop') : '');
  const first = spec.type === 'chain' ? checked.slice(0, 1) : checked;
  const jobs: StepJob[] = first.map((c, i) => stepJob(c.contract, c.payload, meta, id, i));
  const head = {
    hash: hash.digest('base64url').slice(0, 32),
    type: spec.type,
    n: checked.length,
    onFail: spec.type === 'chord' ? (spec.onMemberFailure ?? 'stop') : 'stop',
    service: deps.service,
    steps: stored,
  } as const;
  return { id, type: spec.type, head, jobs };
};

/**
 * `startWorkflow`: validates every step before Redis is touched (one bad step: nothing added),
 * writes the workflow's hash under its own hash tag, then adds the first stage, one addBulk per
 * queue. Job ids follow from (workflow, step): a start retried with its workflowId adds only what
 * is missing. The progress after that is the worker's (src/worker/workflow-step.ts).
 */
export const workflowStarter = (deps: WorkflowDeps) => (raw: unknown, opts: WorkflowOptions = {}): Promise<StartedWorkflow> => {
  let prepared: ReturnType<typeof prepareWorkflow>;
  try {
    prepared = prepareWorkflow(deps, raw, opts);
  } catch (err) {
    return Promise.reject(err as Error);
  }
  const { id, type, head, jobs } = prepared;
  const byQueue = new Map<string, StepJob[]>();
  for (const job of jobs) byQueue.set(job.queue, [...(byQueue.get(job.queue) ?? []), job]);
  return deps
    .guarded(
      `could not start the ${type} (workflow id ${id}; start it again with this workflowId: it adds only what is missing)`,
      async () => {
        // A fail-fast connection refuses commands until it is ready (BullMQ's adds wait for it themselves).
        await whenReady(deps.connection);
        const created = await createWorkflow(deps.connection, workflowKey(deps.prefix, id), head);
        if (created === 'conflict') return created;
        // The hash first: a member that finishes at once must find where to record itself.
        await Promise.all([...byQueue].map(([queue, list]) => deps.queueNamed(queue).addBulk(list)));
        return created;
      },
      (created) => {
        if (created === 'conflict') throw new WorkflowConflictError(id);
        return { workflowId: id, type, jobs: jobs.map((j) => ({ step: (j.data.$hub as JobMeta).workflow!.step, id: j.opts.jobId!, task: j.name, queue: j.queue })) };
      },
    )
    .catch((err: unknown) => {
      if (err instanceof EnqueueError) err.workflowId = id;
      throw err;
    });
};
