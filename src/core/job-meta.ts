import { z } from 'zod';

/**
 * Job data is the task's payload as is, so plain BullMQ clients, other languages and the
 * dashboard's add-job form can enqueue. The hub adds one reserved key for its own metadata.
 */
export const META_KEY = '$hub';

export const JobMeta = z.object({
  requestId: z.string().max(200).optional(),
  service: z.string().max(100).optional(),
  idempotencyKey: z.string().max(500).optional(),
  schedule: z.string().max(200).optional(),
});
export type JobMeta = z.infer<typeof JobMeta>;

type Data = Record<string, unknown>;
const isRecord = (v: unknown): v is Data => typeof v === 'object' && v !== null && !Array.isArray(v);

export const withMeta = (payload: unknown, meta: JobMeta): Data =>
  isRecord(payload) ? { ...payload, [META_KEY]: meta } : { [META_KEY]: meta };

export const payloadOf = (data: unknown): unknown => {
  if (!isRecord(data) || !Object.hasOwn(data, META_KEY)) return data;
  const { [META_KEY]: _meta, ...payload } = data;
  return payload;
};

export const metaOf = (data: unknown): JobMeta => {
  if (!isRecord(data)) return {};
  const parsed = JobMeta.safeParse(data[META_KEY]);
  return parsed.success ? parsed.data : {};
};

/** The id a job's HTTP calls carry: the caller's, or one stable across the job's retries. */
export const requestIdOf = (meta: JobMeta, queue: string, jobId: string): string =>
  meta.requestId ?? `hub-${queue}-${jobId}`;

/** Stable across retries of one job, distinct between jobs: what a service de-duplicates on. */
export const idempotencyKeyOf = (meta: JobMeta, queue: string, jobId: string): string =>
  meta.idempotencyKey ?? `hub-${queue}-${jobId}`;
