import type { Queue } from 'bullmq';
import type { RedisClient } from '../core/redis.ts';
import { catalog, type AnyContract } from '../contracts/index.ts';
import { FAILURE_FIELD, readFailure, type ErrorClass } from '../core/failure-record.ts';
import type { Control } from './control.ts';
import type { FailedFilter } from './failed-filter.ts';

const contracts = catalog as Record<string, AnyContract>;

export interface FailedJob {
  id: string;
  task: string;
  queue: string;
  state: 'failed';
  attemptsMade: number;
  createdAt?: number;
  finishedAt: number;
  failedReason?: string;
  errorClass: ErrorClass;
  /** The HTTP status of the last service call, if one answered. */
  httpStatus?: number;
  boardUrl: string;
}

export const boardUrlOf = (queue: string, id: string): string => `/queue/${encodeURIComponent(queue)}/${encodeURIComponent(id)}`;

const FIELDS = ['name', 'failedReason', 'atm', 'timestamp', FAILURE_FIELD] as const;

/** The failed set's members with their scores (finish times), as read. */
export interface Scored {
  id: string;
  score: string;
}

/** One pipeline of HMGETs for a page of ids (one queue: one slot); undefined for a job gone meanwhile. */
export const readFailed = async (redis: RedisClient, queue: Queue, page: readonly Scored[]): Promise<(FailedJob | undefined)[]> => {
  if (!page.length) return [];
  const pipeline = redis.pipeline();
  for (const { id } of page) pipeline.hmget(queue.toKey(id), ...FIELDS);
  const replies = (await pipeline.exec()) ?? [];
  return page.map(({ id, score }, i) => {
    const [err, values] = replies[i] ?? [];
    if (err) throw err;
    const [name, failedReason, atm, timestamp, record] = values as (string | null)[];
    if (name === null || name === undefined) return undefined;
    const failure = readFailure(record, failedReason);
    return {
      id,
      task: name,
      queue: queue.name,
      state: 'failed',
      attemptsMade: Number(atm ?? 0),
      ...(timestamp ? { createdAt: Number(timestamp) } : {}),
      finishedAt: Number(score),
      ...(failedReason ? { failedReason } : {}),
      errorClass: failure.class,
      ...(failure.status !== undefined ? { httpStatus: failure.status } : {}),
      boardUrl: boardUrlOf(queue.name, id),
    };
  });
};

export const matches = (job: FailedJob, f: FailedFilter, mayRead: (task: string) => boolean): boolean =>
  (f.task === undefined || job.task === f.task) &&
  (f.class === undefined || job.errorClass === f.class) &&
  (f.status === undefined || job.httpStatus === f.status) &&
  mayRead(job.task);

/** The queues a filter can match in: its task's, or every queue holding a task the caller may read. */
export const queuesFor = (ctl: Control, f: FailedFilter, mayRead: (task: string) => boolean): string[] => {
  if (f.task) return [contracts[f.task]!.queue];
  const readable = new Set(Object.values(contracts).filter((c) => mayRead(c.name)).map((c) => c.queue));
  return ctl.queueNames.filter((q) => readable.has(q));
};

const pairs = (flat: string[]): Scored[] => {
  const out: Scored[] = [];
  for (let i = 0; i + 1 < flat.length; i += 2) out.push({ id: flat[i]!, score: flat[i + 1]! });
  return out;
};

const PAGE = 500;
/** A listing looks at most this many failed jobs per queue (`complete: false` past it). */
const SCAN_LIMIT = 20_000;

/** Newest failures first, up to `limit` matches per request, over every queue the filter spans. */
export const listFailed = async (ctl: Control, f: FailedFilter, { limit = 20, mayRead = () => true }: { limit?: number; mayRead?: (task: string) => boolean } = {}) => {
  const max = f.until ?? '+inf';
  const min = f.since ?? '-inf';
  let scanned = 0;
  let complete = true;
  const found: FailedJob[] = [];
  for (const name of queuesFor(ctl, f, mayRead)) {
    const queue = ctl.queue(name);
    const here: FailedJob[] = [];
    for (let offset = 0; here.length < limit; offset += PAGE) {
      if (offset >= SCAN_LIMIT) {
        complete = false;
        break;
      }
      const page = pairs(await ctl.redis.zrevrangebyscore(queue.toKey('failed'), max, min, 'WITHSCORES', 'LIMIT', offset, PAGE));
      scanned += page.length;
      for (const job of await readFailed(ctl.redis, queue, page)) if (job && matches(job, f, mayRead) && here.length < limit) here.push(job);
      if (page.length < PAGE) break;
    }
    found.push(...here);
  }
  found.sort((a, b) => b.finishedAt - a.finishedAt);
  return { jobs: found.slice(0, limit), scanned, complete };
};

/**
 * Every failed id in [min, max], oldest first, in pages: read-only, so an offset into the ties
 * at the last score read is stable. Paging by score keeps each ZRANGEBYSCORE short (Redis is
 * never held for long), whatever the size of the set.
 */
export async function* failedIdsIn(redis: RedisClient, queue: Queue, min: number | '-inf', max: number, page = 1_000): AsyncGenerator<Scored[]> {
  let from: string = String(min);
  let tiesSeen = 0;
  for (;;) {
    const got = pairs(await redis.zrangebyscore(queue.toKey('failed'), from, max, 'WITHSCORES', 'LIMIT', tiesSeen, page));
    if (!got.length) return;
    yield got;
    if (got.length < page) return;
    const last = got[got.length - 1]!.score;
    const sameAsLast = got.filter((s) => s.score === last).length;
    tiesSeen = last === from ? tiesSeen + sameAsLast : sameAsLast;
    from = last;
  }
}
