import type { AnyContract } from '../contracts/index.ts';
import { queueSpecOf } from './job-options.ts';
import { isRecord } from './records.ts';

/**
 * The index of jobs by business key (`orderId:123`): a sorted set per key value (members
 * `<queue>:<jobId>`, scored by enqueue time), under a hash tag of its own, so it works whichever
 * shard each queue lives on. Queue names and job ids cannot contain `:`.
 */
export const keyIndexKey = (hubPrefix: string, name: string, value: string): string => `{${hubPrefix}-key-${name}:${value}}`;

export const keyMember = (queue: string, jobId: string): string => `${queue}:${jobId}`;
export const parseKeyMember = (member: string): { queue: string; id: string } | undefined => {
  const colon = member.indexOf(':');
  return colon > 0 ? { queue: member.slice(0, colon), id: member.slice(colon + 1) } : undefined;
};

export const MAX_KEY_VALUE = 200;

/** A key's value as indexed: a non-empty string (at most MAX_KEY_VALUE characters) or a finite number. */
export const keyValueOf = (data: unknown, name: string): string | undefined => {
  if (!isRecord(data)) return undefined;
  const v = data[name];
  if (typeof v === 'string') return v.length && v.length <= MAX_KEY_VALUE ? v : undefined;
  return typeof v === 'number' && Number.isFinite(v) ? String(v) : undefined;
};

/** Seconds an index entry must outlive its job: the queue's longest retention, after any delay. */
export const keyIndexTtl = (contract: AnyContract, delayMs = 0): number => {
  const spec = queueSpecOf(contract.queue);
  return Math.max(spec.keepCompleted.age, spec.keepFailed.age) + Math.ceil(delayMs / 1_000) + 3_600;
};

/** Every business key any task declares, for the API's and the CLI's "did you mean". */
export const declaredKeys = (contracts: readonly AnyContract[]): string[] => [...new Set(contracts.flatMap((c) => c.keys))].sort();
