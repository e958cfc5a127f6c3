import { z } from 'zod';
import type { JobsOptions } from 'bullmq';
import type { AnyContract } from '../../contracts/index.ts';
import type { WorkflowStepSpec } from '../../contracts/workflow.ts';
import { didYouMean } from '../did-you-mean.ts';
import { InvalidPayloadError, InvalidWorkflowError, UnknownTaskError } from '../errors.ts';
import { jobOptionsFor, withJobId } from '../job-options.ts';
import { withMeta, type JobMeta } from '../job-meta.ts';
import { isRecord, type JsonRecord } from '../records.ts';
import { assertPayloadSize, clip, contractOf, parsePayload } from '../validate.ts';

/** Step `step` of workflow `id` is always this job: adding it twice keeps one. A chord's callback is step `members`. */
export const stepJobId = (queue: string, id: string, step: number): string => `${queue}.wf-${id}-${step}`;

export interface StepJob {
  queue: string;
  name: string;
  data: JsonRecord;
  opts: JobsOptions;
}

export const stepJob = (contract: AnyContract, payload: unknown, meta: JobMeta, id: string, step: number): StepJob => {
  const jobId = stepJobId(contract.queue, id, step);
  return { queue: contract.queue, name: contract.name, data: withMeta(payload, { ...meta, workflow: { id, step } }), opts: withJobId(jobOptionsFor(contract), jobId) };
};

const prefixed = (where: string, err: InvalidPayloadError) =>
  new InvalidWorkflowError(`${err.task}: ${err.issues}`, err.fields.map((f) => ({ path: `${where}.payload${f.path === '(payload)' ? '' : `.${f.path}`}`, message: f.message })), err.fieldCount, where);

/**
 * The edge check of one step (`where`: `steps.2`, `members.0`, `callback`): its task, its mapping's
 * fields, its payload. A field its mapping fills is checked when the step is enqueued, with the
 * previous result in; the rest is checked now. Returns the payload to store (parsed, if nothing is mapped).
 */
export const checkStep = (step: WorkflowStepSpec, where: string, maxBytes: number, mayMap: boolean) => {
  let contract: AnyContract;
  try {
    contract = contractOf(step.task);
  } catch (err) {
    if (err instanceof UnknownTaskError) throw new UnknownTaskError(err.task, `${err.message.slice(`unknown task "${err.task}"`.length)} (${where})`);
    throw err;
  }
  const payload = step.payload ?? {};
  const from = step.from;
  try {
    assertPayloadSize(contract.name, payload, maxBytes);
    if (!from || !Object.keys(from).length) return { contract, payload: parsePayload(contract, payload), from: undefined };
  } catch (err) {
    if (err instanceof InvalidPayloadError) throw prefixed(where, err);
    throw err;
  }
  if (!mayMap) throw new InvalidWorkflowError(`${contract.name}: only a chain's later steps and a chord's callback take a previous result (from)`, [{ path: `${where}.from`, message: 'nothing precedes this step' }], 1, where);
  const schema = contract.schema;
  if (!(schema instanceof z.ZodObject)) throw new InvalidWorkflowError(`${contract.name}: its payload is not an object, so no field can be mapped`, undefined, undefined, where);
  const fields = Object.keys(schema.shape);
  for (const field of Object.keys(from)) {
    if (!fields.includes(field)) {
      const message = `${contract.name} has no payload field "${clip(field)}"${didYouMean(field, fields)}`;
      throw new InvalidWorkflowError(message, [{ path: `${where}.from.${clip(field)}`, message }], 1, where);
    }
  }
  const rest = schema.omit(Object.fromEntries(Object.keys(from).map((k) => [k, true])) as never);
  try {
    parsePayload({ ...contract, schema: rest }, payload);
  } catch (err) {
    if (err instanceof InvalidPayloadError) throw prefixed(where, err);
    throw err;
  }
  return { contract, payload, from };
};

/** `result.order.id` for path `order.id`; `$` is the whole result. Undefined when the path leads nowhere. */
export const valueAt = (value: unknown, path: string): unknown => {
  if (path === '$') return value;
  let at: unknown = value;
  for (const part of path.split('.')) {
    if (Array.isArray(at) && /^\d+$/.test(part)) at = at[Number(part)];
    else if (isRecord(at) && Object.hasOwn(at, part)) at = at[part];
    else return undefined;
  }
  return at;
};

/** The step's payload with its mapped fields taken from the previous result; the error says which path is missing. */
export const mappedPayload = (step: WorkflowStepSpec, previous: unknown): unknown => {
  if (!step.from) return step.payload ?? {};
  const payload: JsonRecord = isRecord(step.payload) ? { ...step.payload } : {};
  for (const [field, path] of Object.entries(step.from)) {
    const value = valueAt(previous, path);
    if (value === undefined) throw new Error(`from.${field}: the previous result has no "${path}"`);
    payload[field] = value;
  }
  return payload;
};
