import { createHash } from 'node:crypto';
import { IdempotencyConflictError } from '../core/errors.ts';
import { metaOf, requestIdOf } from '../core/job-meta.ts';

/** JSON with object keys sorted: one payload, one text, whatever order its keys came in. */
const canonical = (value: unknown): string => {
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : canonical(v))).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const record = value as Record<string, unknown>;
    const entries = Object.keys(record)
      .sort()
      .filter((k) => record[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonical(record[k])}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
};

/** Of the payload as validated (defaults filled in): `{}` and `{ olderThanMinutes: 60 }` are one request when 60 is the default. */
export const payloadHash = (payload: unknown): string => createHash('sha256').update(canonical(payload)).digest('base64url').slice(0, 32);

export interface KeyedAdd {
  task: string;
  queue: string;
  jobId: string;
  idempotencyKey: string;
  payloadHash: string;
  requestId?: string;
}

/**
 * After a keyed add, the job data stored under its id says what happened: BullMQ added ours, or
 * kept the job the key already named. That job's payload must be ours (else the key is reused
 * for another request: IdempotencyConflictError), and its request id is the one to answer with.
 * Read after the add, not before, so two racing requests both see the one job that won.
 */
export const requestIdAfterAdd = (stored: string | null, add: KeyedAdd): string => {
  // Removed by retention in between: nothing else to compare with.
  if (stored === null) return add.requestId ?? requestIdOf({}, add.queue, add.jobId);
  let data: unknown;
  try {
    data = JSON.parse(stored);
  } catch {
    data = undefined;
  }
  const meta = metaOf(data);
  // No hash: a job from before hashes were stored, or from a plain client; it cannot be compared.
  if (meta.payloadHash !== undefined && meta.payloadHash !== add.payloadHash) {
    throw new IdempotencyConflictError(add.task, add.idempotencyKey, add.jobId);
  }
  return requestIdOf(meta, add.queue, add.jobId);
};
