import { z } from 'zod';
import { isRecord, type JsonRecord } from './records.ts';

/**
 * Job data is the task's payload as is, so plain BullMQ clients, other languages and the
 * dashboard's add-job form can enqueue. The hub adds one reserved key for its own metadata;
 * this module is the only one that reads or writes it.
 */
export const META_KEY = '$hub';

export const JobMeta = z.object({
  requestId: z.string().max(200).optional(),
  service: z.string().max(100).optional(),
  idempotencyKey: z.string().max(500).optional(),
  /** With idempotencyKey: a hash of the payload, so a repeat with another payload is told apart (409). */
  payloadHash: z.string().max(64).optional(),
  /** The schedule entry whose scheduler created the job. */
  schedule: z.string().max(200).optional(),
  /** The entry's runs must not overlap: the worker runs the job under a per-schedule lock. */
  noOverlap: z.boolean().optional(),
  /** W3C traceparent of the span that enqueued the job: each attempt's span is its child (src/core/tracing/). */
  trace: z.string().max(256).optional(),
  tracestate: z.string().max(512).optional(),
  /** A scheduler's template: the span beat recorded for the entry, which each run's trace links to. */
  scheduleTrace: z.string().max(256).optional(),
  /** Epoch ms: a job not started by then fails as expired without running (src/worker/expiry.ts). */
  expiresAt: z.number().int().positive().optional(),
  /** The publish that created the job: event name and id, and a hash of the event (a republish under the id with another event is a conflict). */
  event: z.strictObject({ name: z.string().max(100), id: z.string().max(200), hash: z.string().max(64) }).optional(),
  /** The workflow the job is step `step` of (a chord's callback is step `members`): its worker records the outcome there (src/worker/workflow-step.ts). */
  workflow: z.strictObject({ id: z.string().max(100), step: z.int().min(0) }).optional(),
});
export type JobMeta = z.infer<typeof JobMeta>;

export const withMeta = (payload: unknown, meta: JobMeta): JsonRecord => {
  if (!isRecord(payload)) return { [META_KEY]: meta };
  // Metadata first, then the spread: on Node 20 a property added after a spread takes V8's slow path.
  const data: JsonRecord = { [META_KEY]: meta, ...payload };
  // A payload carrying its own `$hub` (a loose schema let it through) must not stand in for ours.
  if (data[META_KEY] !== meta) data[META_KEY] = meta;
  return data;
};

export const payloadOf = (data: unknown): unknown => {
  if (!isRecord(data) || !Object.hasOwn(data, META_KEY)) return data;
  const { [META_KEY]: _meta, ...payload } = data;
  return payload;
};

const NO_META: JobMeta = Object.freeze({});
type Check = (value: unknown) => boolean;
/** A hand-written check per field, derived from its schema: strings with their limit, booleans, objects of strings. */
const checkOf = (schema: z.ZodType): Check => {
  if (schema instanceof z.ZodString) {
    const max = schema.maxLength!;
    return (v) => typeof v === 'string' && v.length <= max;
  }
  if (schema instanceof z.ZodNumber) {
    const min = schema.safeParse(0).success ? 0 : 1;
    return (v) => Number.isSafeInteger(v) && (v as number) >= min;
  }
  if (schema instanceof z.ZodObject) {
    const fields = Object.entries(schema.shape as Record<string, z.ZodType>).map(([k, s]): [string, Check] => [k, checkOf(s)]);
    return (v) => isRecord(v) && Object.keys(v).length === fields.length && fields.every(([k, valid]) => valid(v[k]));
  }
  return (v) => typeof v === 'boolean';
};
const FIELD_CHECKS = Object.entries(JobMeta.shape).map(([key, schema]): [keyof JobMeta, Check] => [key as keyof JobMeta, checkOf(schema.unwrap())]);

/**
 * The hub's metadata of a job, or none if it is malformed. Read once per attempt on the worker's
 * hot path, so checked by hand against JobMeta's own limits rather than by a zod parse.
 */
export const metaOf = (data: unknown): JobMeta => {
  if (!isRecord(data)) return NO_META;
  const raw = data[META_KEY];
  if (!isRecord(raw)) return NO_META;
  for (const [key, valid] of FIELD_CHECKS) {
    const value = raw[key];
    if (value !== undefined && !valid(value)) return NO_META;
  }
  // Valid as stored: read in place, no copy.
  return raw as JobMeta;
};

/** A scheduler template's data with the span beat recorded for it (see scheduleEntrySpan). */
export const withScheduleTrace = (data: JsonRecord, traceparent: string | undefined): JsonRecord => {
  if (traceparent === undefined || !isRecord(data[META_KEY])) return data;
  return { ...data, [META_KEY]: { ...data[META_KEY], scheduleTrace: traceparent } };
};

/** The data as beat compares it: without the span link, which changes with every upsert. */
export const withoutScheduleTrace = (data: unknown): unknown => {
  if (!isRecord(data) || !isRecord(data[META_KEY]) || !Object.hasOwn(data[META_KEY], 'scheduleTrace')) return data;
  const { scheduleTrace: _link, ...meta } = data[META_KEY];
  return { ...data, [META_KEY]: meta };
};

/** Whether the job carries the hub's metadata at all (a plain BullMQ client's job does not). */
export const hasMeta = (data: unknown): boolean => metaOf(data) !== NO_META;

/** The schedule whose runs must not overlap, if the job asks for the guard. */
export const noOverlapScheduleOf = (meta: JobMeta): string | undefined => (meta.noOverlap === true ? meta.schedule : undefined);

/**
 * The expiry stored in a job's data, read without validating the rest of `$hub` (the worker asks
 * for every job before it runs: two property reads for a job that has none).
 */
export const storedExpiryOf = (data: unknown): number | undefined => {
  const raw = isRecord(data) ? data[META_KEY] : undefined;
  const at = isRecord(raw) ? raw.expiresAt : undefined;
  return Number.isSafeInteger(at) && (at as number) > 0 ? (at as number) : undefined;
};

/** The id a job's HTTP calls carry: the caller's, or one stable across the job's retries. */
export const requestIdOf = (meta: JobMeta, queue: string, jobId: string): string => meta.requestId ?? `hub-${queue}-${jobId}`;

/** Stable across retries of one job, distinct between jobs: what a service de-duplicates on. */
export const idempotencyKeyOf = (meta: JobMeta, queue: string, jobId: string): string => meta.idempotencyKey ?? `hub-${queue}-${jobId}`;
