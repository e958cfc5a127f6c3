import type { RedisClient } from '../redis.ts';

/**
 * A workflow's progress is one hash under the workflow's own hash tag (`{<prefix>-wf:<id>}`),
 * apart from every queue: its members may sit on queues of different cluster shards, and each
 * script here touches that one key only. Fields:
 *   type, n (members or steps), onFail, hash (of the spec), service, createdAt
 *   t:<i>  step i as JSON ({ task, payload?, from? }; group members keep their task only);
 *          a chord's callback is step n
 *   s:<i>  'ok' | 'failed' once step i finished for good; r:<i> its result (JSON), e:<i> its reason
 *   q:<i>  step i was enqueued by a completion (the marker that stops a re-run from adding it again,
 *          even after retention removed its job)
 *   done, failed  counts of recorded members
 *   state, finishedAt, failedStep, error  once the workflow is over (then the hash expires)
 */
export const workflowKey = (hubPrefix: string, id: string): string => `{${hubPrefix}-wf:${id}}`;

/** How long a finished workflow's state stays readable (its jobs follow their queue's retention). */
export const WORKFLOW_RETENTION_MS = 7 * 24 * 60 * 60_000;

// ARGV: hash, type, n, onFail, service, createdAt, then field/value pairs (t:<i>). A retry of the
// same start finds its own hash and answers 'exists'; another spec under the id, 'conflict'.
const CREATE = `local key = KEYS[1]
local h = redis.call('HGET', key, 'hash')
if h then if h == ARGV[1] then return 'exists' end return 'conflict' end
redis.call('HSET', key, 'hash', ARGV[1], 'type', ARGV[2], 'n', ARGV[3], 'onFail', ARGV[4], 'service', ARGV[5], 'createdAt', ARGV[6], 'state', 'running', 'done', 0, 'failed', 0)
for i = 7, #ARGV, 2 do redis.call('HSET', key, ARGV[i], ARGV[i + 1]) end
return 'created'`;

/**
 * Records step ARGV[1]'s outcome once (ARGV[2] '1' ok / '0' failed for good, ARGV[3] its result
 * JSON or reason): a member that ran twice counts once. Then answers, on every call and not only
 * on the one that finished the set, what follows: a crash between recording and enqueueing is
 * repaired by the job's stalled re-run, which gets the same answer.
 *   {'next', step, stepJson, previousResultJson}  chain: enqueue the next step
 *   {'callback', step, stepJson, outcomes}        chord: every member is in, enqueue the callback
 *                                                  (outcomes: state and result-or-reason per member, in order)
 *   {'completed'} | {'failed'} | {'pending'} | {'done'} | {'gone'}
 */
const RECORD = `local key = KEYS[1]
local kind = redis.call('HGET', key, 'type')
if not kind then return {'gone'} end
local n = tonumber(redis.call('HGET', key, 'n'))
local i = tonumber(ARGV[1])
local function finish(state, step, err)
  if redis.call('HSETNX', key, 'finishedAt', ARGV[4]) == 1 then
    redis.call('HSET', key, 'state', state)
    if step then redis.call('HSET', key, 'failedStep', step) end
    if err then redis.call('HSET', key, 'error', err) end
    redis.call('PEXPIRE', key, ARGV[5])
  end
end
if redis.call('HSETNX', key, 's:' .. i, ARGV[2] == '1' and 'ok' or 'failed') == 1 then
  redis.call('HSET', key, (ARGV[2] == '1' and 'r:' or 'e:') .. i, ARGV[3])
  if i < n then redis.call('HINCRBY', key, 'done', 1) end
  if ARGV[2] ~= '1' then redis.call('HINCRBY', key, 'failed', 1) end
end
local ok = redis.call('HGET', key, 's:' .. i) == 'ok'
-- Failed already (a cancel, or another step): nothing follows, whoever records.
if redis.call('HGET', key, 'state') == 'failed' then return {'failed'} end
if kind == 'chain' or i == n then
  if not ok then finish('failed', i, redis.call('HGET', key, 'e:' .. i)) return {'failed'} end
  if kind ~= 'chain' or i == n - 1 then finish('completed', false, false) return {'completed'} end
  local nx = i + 1
  if redis.call('HEXISTS', key, 'q:' .. nx) == 1 or redis.call('HEXISTS', key, 's:' .. nx) == 1 then return {'done'} end
  return {'next', tostring(nx), redis.call('HGET', key, 't:' .. nx), redis.call('HGET', key, 'r:' .. i)}
end
if tonumber(redis.call('HGET', key, 'done')) < n then return {'pending'} end
local failed = tonumber(redis.call('HGET', key, 'failed'))
if kind == 'group' then
  if failed > 0 then finish('failed', false, failed .. ' of ' .. n .. ' members failed') return {'failed'} end
  finish('completed', false, false)
  return {'completed'}
end
if failed > 0 and redis.call('HGET', key, 'onFail') ~= 'continue' then
  finish('failed', false, failed .. ' of ' .. n .. ' members failed; the callback did not run')
  return {'failed'}
end
if redis.call('HEXISTS', key, 'q:' .. n) == 1 or redis.call('HEXISTS', key, 's:' .. n) == 1 then return {'done'} end
-- Every member's outcome, in order, in the same reply: what the callback's payload is made of.
local outcomes = {}
for j = 0, n - 1 do
  local sj = redis.call('HGET', key, 's:' .. j)
  outcomes[#outcomes + 1] = sj
  outcomes[#outcomes + 1] = redis.call('HGET', key, (sj == 'ok' and 'r:' or 'e:') .. j)
end
return {'callback', tostring(n), redis.call('HGET', key, 't:' .. n), outcomes}`;

// ARGV: reason, now, retentionMs. Ends a running workflow as failed: no step is enqueued after this.
const CANCEL = `local key = KEYS[1]
if not redis.call('HGET', KEYS[1], 'type') then return 'gone' end
if redis.call('HSETNX', key, 'finishedAt', ARGV[2]) == 0 then return 'finished' end
redis.call('HSET', key, 'state', 'failed', 'error', ARGV[1])
redis.call('PEXPIRE', key, ARGV[3])
return 'cancelled'`;

type Command = (...args: (string | number)[]) => Promise<unknown>;
const run = (name: string, lua: string) => (redis: RedisClient, key: string, ...args: (string | number)[]) => {
  const commands = redis as unknown as Record<string, Command | undefined>;
  if (!commands[name]) redis.defineCommand(name, { lua, numberOfKeys: 1 });
  return commands[name]!(key, ...args);
};

const create = run('hubWorkflowCreate', CREATE);
const record = run('hubWorkflowRecord', RECORD);
const cancel = run('hubWorkflowCancel', CANCEL);

/** Ends a running workflow as failed with `reason` (its steps' jobs are the caller's to cancel). */
export const cancelWorkflowState = async (redis: RedisClient, key: string, reason: string): Promise<'cancelled' | 'finished' | 'gone'> =>
  (await cancel(redis, key, reason, Date.now(), WORKFLOW_RETENTION_MS)) as 'cancelled' | 'finished' | 'gone';

export interface WorkflowHead {
  hash: string;
  type: string;
  n: number;
  onFail: 'stop' | 'continue';
  service: string;
  /** t:<i> fields. */
  steps: [field: string, json: string][];
}

export const createWorkflow = async (redis: RedisClient, key: string, head: WorkflowHead): Promise<'created' | 'exists' | 'conflict'> =>
  (await create(redis, key, head.hash, head.type, head.n, head.onFail, head.service, Date.now(), ...head.steps.flat())) as 'created' | 'exists' | 'conflict';

export type RecordAnswer =
  | { next: 'next'; step: number; stepJson: string; previous: string }
  | { next: 'callback'; step: number; stepJson: string; outcomes: string[] }
  | { next: 'completed' | 'failed' | 'pending' | 'done' | 'gone' };

export const recordStep = async (redis: RedisClient, key: string, step: number, ok: boolean, value: string): Promise<RecordAnswer> => {
  const [next, at, json, previous] = (await record(redis, key, step, ok ? '1' : '0', value, Date.now(), WORKFLOW_RETENTION_MS)) as [string, string?, string?, (string | string[])?];
  if (next === 'next') return { next, step: Number(at), stepJson: json!, previous: previous as string };
  if (next === 'callback') return { next, step: Number(at), stepJson: json!, outcomes: previous as string[] };
  return { next: next as 'completed' };
};

/** Marks step `step` enqueued: a later re-run of the step before it answers 'done'. */
export const markEnqueued = (redis: RedisClient, key: string, step: number): Promise<unknown> => redis.hset(key, `q:${step}`, '1');
