import type { MemberResult, WorkflowType } from '../../contracts/workflow.ts';
import { contractOf } from '../validate.ts';
import type { RedisClient } from '../redis.ts';
import { stepJobId } from './steps.ts';
import { workflowKey } from './scripts.ts';

export type WorkflowState = 'running' | 'completed' | 'failed';
/** pending: not enqueued yet (a chain's later step, a chord's callback); skipped: will never run. */
export type StepState = 'pending' | 'enqueued' | 'completed' | 'failed' | 'skipped';

export interface WorkflowStepInfo {
  index: number;
  /** 'callback' for a chord's callback (index = the number of members). */
  role: 'step' | 'member' | 'callback';
  task: string;
  queue: string;
  jobId: string;
  state: StepState;
  result?: unknown;
  error?: string;
}

export interface WorkflowInfo {
  id: string;
  type: WorkflowType;
  state: WorkflowState;
  service?: string;
  createdAt: number;
  finishedAt?: number;
  steps: WorkflowStepInfo[];
  /** Chain: the last step's result; group: every member's outcome in order; chord: the callback's result. */
  result?: unknown;
  /** Failed: which step (a chain's, a chord's callback) and why; a group or chord names how many members failed. */
  failedStep?: number;
  error?: string;
}

const parse = (json: string | undefined): unknown => {
  if (json === undefined) return undefined;
  try {
    return JSON.parse(json);
  } catch {
    return json;
  }
};

const queueOfTask = (task: string): string => {
  try {
    return contractOf(task).queue;
  } catch {
    return 'unknown'; // a task removed from the catalog since the workflow started
  }
};

/** The members' outcomes in order (a group's result, what a chord's callback receives), from the hash's fields. */
export const memberResults = (fields: Record<string, string>, n: number): MemberResult[] =>
  Array.from({ length: n }, (_, index): MemberResult => {
    const s = fields[`s:${index}`];
    if (s === 'ok') return { index, ok: true, result: parse(fields[`r:${index}`]) ?? null };
    if (s === 'failed') return { index, ok: false, error: fields[`e:${index}`] ?? 'unknown' };
    return { index, ok: false, error: 'not finished' };
  });

/** The same from the record script's flat reply: state, then result or reason, per member. */
export const memberResultsOf = (outcomes: readonly string[]): MemberResult[] =>
  Array.from({ length: outcomes.length / 2 }, (_, index): MemberResult => {
    const [s, value] = [outcomes[2 * index], outcomes[2 * index + 1]];
    if (s === 'ok') return { index, ok: true, result: parse(value ?? undefined) ?? null };
    return { index, ok: false, error: value ?? 'unknown' };
  });

/** The workflow as its hash holds it (one HGETALL), or undefined when there is none. */
export const readWorkflow = async (redis: RedisClient, hubPrefix: string, id: string): Promise<WorkflowInfo | undefined> => {
  const f = await redis.hgetall(workflowKey(hubPrefix, id));
  if (!f.type) return undefined;
  const type = f.type as WorkflowType;
  const n = Number(f.n);
  const state = (f.state ?? 'running') as WorkflowState;
  const over = state !== 'running';
  const count = type === 'chord' ? n + 1 : n;
  const steps = Array.from({ length: count }, (_, index): WorkflowStepInfo => {
    const task = (parse(f[`t:${index}`]) as { task?: string } | undefined)?.task ?? 'unknown';
    const queue = queueOfTask(task);
    const role = type === 'chain' ? 'step' : index === n ? 'callback' : 'member';
    const s = f[`s:${index}`];
    const step: WorkflowStepInfo = { index, role, task, queue, jobId: stepJobId(queue, id, index), state: 'enqueued' };
    if (s === 'ok') {
      step.state = 'completed';
      step.result = parse(f[`r:${index}`]);
    } else if (s === 'failed') {
      step.state = 'failed';
      step.error = f[`e:${index}`];
    } else if (role === 'member' || index === 0 || f[`q:${index}`]) step.state = 'enqueued';
    else step.state = over ? 'skipped' : 'pending';
    return step;
  });
  const info: WorkflowInfo = { id, type, state, createdAt: Number(f.createdAt), steps };
  if (f.service) info.service = f.service;
  if (f.finishedAt) info.finishedAt = Number(f.finishedAt);
  if (type === 'group' && over) info.result = memberResults(f, n);
  else if (state === 'completed') info.result = parse(f[`r:${count - 1}`]);
  if (f.failedStep !== undefined) info.failedStep = Number(f.failedStep);
  if (f.error !== undefined) info.error = f.error;
  return info;
};
