import { isDeepStrictEqual } from 'node:util';
import type { BeforeHook, BeforeHookResult, BullBoardRequest } from '@bull-board/api/typings/app';
import { catalog } from '../contracts/index.ts';
import { META_KEY, payloadOf } from '../core/job-meta.ts';
import { isRecord, type JsonRecord } from '../core/records.ts';
import { contractOf, validateTask } from '../core/validate.ts';
import { HubQueueAdapter, MAX_DELAY_MS, optionsProblem, sensitiveOf } from './hub-queue-adapter.ts';
import { contractsOnQueue } from './task-schemas.ts';

const REDACTED = '[redacted]';
/** The states the board offers "clean all" for; any other name would reach BullMQ's clean script. */
const CLEANABLE = ['completed', 'failed', 'delayed'];
const MIN_EVERY_MS = 1_000;

const refuse = (message: string): BeforeHookResult => ({ allow: false, status: 400, errorKey: 'ERRORS.INVALID_REQUEST_BODY', message });

const kindOf = (value: unknown) => (value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value);

/** The message of a validation error, or undefined when the payload is fine. */
const payloadProblem = (task: string, queue: string, payload: unknown): string | undefined => {
  try {
    const contract = Object.hasOwn(catalog, task) ? contractOf(task) : undefined;
    if (contract?.queue !== queue) {
      return `Job name must be a task of queue "${queue}": ${contractsOnQueue(queue).map((c) => c.name).join(', ')} (got "${task}")`;
    }
    const copied = contract.sensitive.filter((f) => isRecord(payload) && payload[f] === REDACTED);
    if (copied.length) return `${copied.join(', ')} ${copied.length > 1 ? 'are' : 'is'} sensitive and shown redacted: enter the real value`;
    validateTask(task, payload);
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
};

type Check = (request: BullBoardRequest, queue: string) => Promise<string | undefined> | string | undefined;

const add: Check = (request, queue) => {
  const { name, data, options } = (request.body ?? {}) as { name?: unknown; data?: unknown; options?: unknown };
  return optionsProblem(options) ?? payloadProblem(String(name ?? ''), queue, payloadOf(data ?? {}));
};

/**
 * An edit replaces the job's data: it must be the task's payload, sensitive values the board
 * showed as [redacted] keep their real value, and the hub's metadata stays as stored.
 */
const updateData: Check = async (request, queue) => {
  const job = await request.queues.get(queue)?.getJob(String(request.params.jobId));
  if (!job) return undefined; // Bull Board answers 404.
  const body = request.body as { jobData?: unknown };
  const edited = body.jobData;
  if (!isRecord(edited)) return `jobData must be a JSON object (the task's payload), got ${kindOf(edited)}`;
  const { name, data: stored } = job.toJSON() as { name: string; data: unknown };
  const storedMeta = isRecord(stored) ? stored[META_KEY] : undefined;
  if (Object.hasOwn(edited, META_KEY) && !isDeepStrictEqual(edited[META_KEY], storedMeta)) {
    return `${META_KEY} is the hub's metadata of the job (request id, service, schedule) and cannot be edited: leave it as shown, or leave it out`;
  }
  const payload = payloadOf(edited) as JsonRecord;
  for (const f of sensitiveOf(name)) {
    if (payload[f] === REDACTED && isRecord(stored) && Object.hasOwn(stored, f)) payload[f] = stored[f];
  }
  const problem = payloadProblem(name, queue, payload);
  if (problem) return problem;
  body.jobData = storedMeta === undefined ? payload : { [META_KEY]: storedMeta, ...payload };
  return undefined;
};

const clean: Check = (request) => {
  const status = String(request.params.queueStatus);
  return CLEANABLE.includes(status) ? undefined : `clean: the state must be ${CLEANABLE.slice(0, -1).join(', ')} or ${CLEANABLE.at(-1)} (got "${status.slice(0, 40)}")`;
};

const changeDelay: Check = (request) => {
  const { runAt } = (request.body ?? {}) as { runAt?: unknown };
  // Bull Board refuses a runAt that is not a number itself.
  return typeof runAt === 'number' && runAt - Date.now() > MAX_DELAY_MS ? 'runAt must be within a year from now' : undefined;
};

const ownedByBeat = async (request: BullBoardRequest, queue: string): Promise<string | undefined> => {
  const adapter = request.queues.get(queue);
  const id = String(request.params.schedulerId);
  if (!(adapter instanceof HubQueueAdapter) || !(await adapter.isBeatScheduler(id))) return undefined;
  return `scheduler "${id}" comes from schedule.ts: change it there (beat puts back what the board changes)`;
};

const updateScheduler: Check = async (request, queue) => {
  const owned = await ownedByBeat(request, queue);
  if (owned) return owned;
  const { every } = (request.body ?? {}) as { every?: unknown };
  const tooOften = every !== undefined && every !== null && (typeof every !== 'number' || !Number.isInteger(every) || every < MIN_EVERY_MS);
  return tooOften ? `every must be a whole number of milliseconds, at least ${MIN_EVERY_MS} (as in schedule.ts)` : undefined;
};

const checks: Record<string, Check> = {
  'post /api/queues/:queueName/add': add,
  'patch /api/queues/:queueName/:jobId/update-data': updateData,
  'put /api/queues/:queueName/clean/:queueStatus': clean,
  'patch /api/queues/:queueName/:jobId/delay': changeDelay,
  'patch /api/queues/:queueName/job-schedulers/:schedulerId': updateScheduler,
  'put /api/queues/:queueName/job-schedulers/:schedulerId/remove': ownedByBeat,
};

/**
 * Board writes that carry input are checked before Bull Board hands them to BullMQ, so the
 * board answers 400 with the reason instead of storing what fails later (or a 500 from BullMQ).
 * Bull Board validates the rest itself (priority, concurrency, rate limit; test/dashboard).
 */
export const checkBoardWrite: BeforeHook = async ({ method, route, request }) => {
  const check = checks[`${method} ${route}`];
  const problem = check ? await check(request, String(request.params.queueName ?? '')) : undefined;
  return problem ? refuse(problem) : undefined;
};
