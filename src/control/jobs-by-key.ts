import { catalog, type AnyContract } from '../contracts/index.ts';
import { declaredKeys, keyIndexKey, MAX_KEY_VALUE, parseKeyMember } from '../core/business-keys.ts';
import { didYouMean } from '../core/did-you-mean.ts';
import { FAILURE_FIELD, readFailure, type ErrorClass } from '../core/failure-record.ts';
import type { Control } from './control.ts';
import { InvalidInputError } from './errors.ts';
import { boardUrlOf } from './failed-jobs.ts';

const contracts = Object.values(catalog as Record<string, AnyContract>);
export const KEYS = declaredKeys(contracts);

/** `orderId:123` -> the key and its value; a key no task declares is refused with a suggestion. */
export const parseKeyRef = (ref: string): { name: string; value: string } => {
  const colon = ref.indexOf(':');
  const name = colon > 0 ? ref.slice(0, colon) : '';
  const value = colon > 0 ? ref.slice(colon + 1) : '';
  if (!name || !value || value.length > MAX_KEY_VALUE) {
    throw new InvalidInputError(`key: expected <key>:<value> such as orderId:3f2b8c4e-... (keys: ${KEYS.join(', ')})`, [{ path: 'key', message: 'expected <key>:<value>' }]);
  }
  if (!KEYS.includes(name)) {
    throw new InvalidInputError(`key: no task declares the key "${name.slice(0, 100)}"${didYouMean(name, KEYS)} (keys: ${KEYS.join(', ')})`, [{ path: 'key', message: 'unknown key' }]);
  }
  return { name, value };
};

export interface KeyedJob {
  id: string;
  task: string;
  queue: string;
  state: string;
  attemptsMade: number;
  createdAt?: number;
  finishedAt?: number;
  failedReason?: string;
  errorClass?: ErrorClass;
  httpStatus?: number;
  boardUrl: string;
}

/** How long a key member without its job is taken for an add still under way, not for a removed job. */
const PENDING_ADD_MS = 60_000;

/**
 * Every job indexed under the key, in every queue, newest first. Ids whose job retention has
 * removed are dropped from the index as they are found. Reads one queue's jobs per pipeline.
 */
export const jobsByKey = async (ctl: Control, ref: string, { limit = 50, mayRead = () => true }: { limit?: number; mayRead?: (task: string) => boolean } = {}) => {
  const { name, value } = parseKeyRef(ref);
  const key = keyIndexKey(ctl.prefix, name, value);
  const members = await ctl.redis.zrevrange(key, 0, Math.min(limit, 500) - 1, 'WITHSCORES');
  const entries: { member: string; queue: string; id: string; at: number }[] = [];
  for (let i = 0; i + 1 < members.length; i += 2) {
    const parsed = parseKeyMember(members[i]!);
    if (parsed && ctl.queueNames.includes(parsed.queue)) entries.push({ member: members[i]!, ...parsed, at: Number(members[i + 1]) });
  }
  const stale: string[] = [];
  const jobs: KeyedJob[] = [];
  let hidden = 0;
  await Promise.all(
    [...new Set(entries.map((e) => e.queue))].map(async (queueName) => {
      const queue = ctl.queue(queueName);
      const mine = entries.filter((e) => e.queue === queueName);
      const pipeline = ctl.redis.pipeline();
      for (const e of mine) pipeline.hmget(queue.toKey(e.id), 'name', 'atm', 'timestamp', 'finishedOn', 'failedReason', FAILURE_FIELD);
      const replies = (await pipeline.exec()) ?? [];
      const states = await Promise.all(mine.map((e) => queue.getJobState(e.id)));
      mine.forEach((e, i) => {
        const [task, atm, timestamp, finishedOn, failedReason, record] = (replies[i]?.[1] ?? []) as (string | null)[];
        // The index is written beside the add: a member younger than a minute may await its job.
        if (!task) return void (Date.now() - e.at > PENDING_ADD_MS && stale.push(e.member));
        if (!mayRead(task)) return void hidden++;
        const state = states[i]!;
        const failure = state === 'failed' ? readFailure(record, failedReason) : undefined;
        jobs.push({
          id: e.id,
          task,
          queue: queueName,
          state,
          attemptsMade: Number(atm ?? 0),
          ...(timestamp ? { createdAt: Number(timestamp) } : {}),
          ...(finishedOn ? { finishedAt: Number(finishedOn) } : {}),
          ...(failedReason && state === 'failed' ? { failedReason } : {}),
          ...(failure ? { errorClass: failure.class, ...(failure.status !== undefined ? { httpStatus: failure.status } : {}) } : {}),
          boardUrl: boardUrlOf(queueName, e.id),
        });
      });
    }),
  );
  if (stale.length) await ctl.redis.zrem(key, ...stale);
  jobs.sort((a, b) => (b.createdAt ?? 0) - (a.createdAt ?? 0));
  return { key: `${name}:${value}`, jobs, ...(hidden ? { hidden } : {}) };
};
