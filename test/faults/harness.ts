import { appendFileSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import type { AnyContract } from '../../src/contracts/index.ts';
import { jobOptionsFor, withJobId } from '../../src/core/job-options.ts';
import { newJobId } from '../../src/producer/job-ids.ts';
import { afterAll } from 'vitest';
import { queuePrefix } from '../../src/core/keys.ts';
import type { RedisClient } from '../../src/core/redis.ts';
import { startRedisServer, type RedisServer, type RedisServerOptions } from '../../src/launcher/redis-server.ts';
import { spawnRole, type RoleProcess } from '../helpers/spawn-role.ts';
import { CountingService } from './counting-service.ts';

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls until `check` is true; false once `timeoutMs` passed. */
export const until = async (check: () => boolean | Promise<boolean>, timeoutMs: number, everyMs = 100): Promise<boolean> => {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await sleep(everyMs);
  }
  return check();
};

/**
 * One scenario's world: a private redis-server in a temp dir (restartable on the same port and
 * data), the counting order service, and the hub processes it spawns. All stopped after the file.
 */
export const useFaultWorld = () => {
  const dir = mkdtempSync(join(tmpdir(), 'hub-faults-'));
  const processes: RoleProcess[] = [];
  const clients: Redis[] = [];
  const world = {
    dir,
    redis: undefined as RedisServer | undefined,
    redisOptions: {} as Omit<RedisServerOptions, 'dir' | 'port'>,
    service: undefined as unknown as CountingService,
    async startRedis(opts: Omit<RedisServerOptions, 'dir' | 'port'> = {}) {
      world.redisOptions = opts;
      world.redis = await startRedisServer({ dir: join(dir, 'redis'), ...opts });
      world.service ??= await CountingService.start();
      return world.redis;
    },
    /** Same port, same data dir: what a restarted Redis container looks like to clients. */
    async restartRedis() {
      world.redis = await startRedisServer({ dir: join(dir, 'redis'), port: world.redis!.port, ...world.redisOptions });
      return world.redis;
    },
    /**
     * The outage of scenarios 2 and 2c: SIGKILL Redis, restart it on its data `downMs` later, and let
     * the run go on `thenMs` more. Answers when it came back.
     */
    async redisOutage({ downMs = 2_000, thenMs = 3_000 } = {}) {
      await world.redis!.kill();
      await sleep(downMs);
      await world.restartRedis();
      const restartedAt = Date.now();
      await sleep(thenMs);
      return restartedAt;
    },
    client() {
      const c = new Redis(world.redis!.url, { maxRetriesPerRequest: null });
      c.on('error', () => {});
      clients.push(c);
      return c;
    },
    /** A hub entry point as a real process, wired to this world's Redis and service. */
    spawn(entry: string, prefix: string, env: Record<string, string> = {}) {
      const p = spawnRole(entry, {
        REDIS_URL: world.redis!.url,
        HUB_PREFIX: prefix,
        ORDER_SERVICE_URL: world.service.url,
        HTTP_TIMEOUT_MS: '10000',
        ...env,
      });
      processes.push(p);
      return p;
    },
    processes,
  };
  afterAll(async () => {
    for (const p of processes) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
    // Child processes must not outlive their killed worker: they exit by themselves
    // (src/worker/child/watchdog.cjs). Any left is reported (and killed).
    const orphans = world.redis ? await survivors(world.redis.url) : [];
    for (const pid of orphans) process.kill(pid, 'SIGKILL');
    if (orphans.length) reportNote(`NOTE ${orphans.length} child process(es) of SIGKILLed workers were still alive 10 s later and were killed by the suite`);
    for (const c of clients) c.disconnect();
    await world.service?.close();
    await world.redis?.stop().catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  });
  return world;
};

/** Processes (other than ours) still pointed at this Redis 10 s after their parents were killed. */
const survivors = async (redisUrl: string): Promise<number[]> => {
  let found = scan(redisUrl);
  for (let waited = 0; found.length && waited < 10_000; waited += 500) {
    await sleep(500);
    found = scan(redisUrl);
  }
  return found;
};

const scan = (redisUrl: string): number[] => {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!pid || pid === process.pid) continue;
    try {
      if (readFileSync(`/proc/${pid}/environ`, 'latin1').split('\0').includes(`REDIS_URL=${redisUrl}`)) found.push(pid);
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
  return found;
};

export type Finished = { ok: true; at?: number } | { ok: false; reason: string; at?: number };

/** Outcomes the workers logged, by job id: what retention may already have removed from Redis. */
const parsed = new WeakMap<RoleProcess, { upTo: number; seen: Map<string, Finished> }>();

export const loggedOutcomes = (processes: readonly RoleProcess[]): Map<string, Finished> => {
  const all = new Map<string, Finished>();
  for (const p of processes) {
    const cache = parsed.get(p) ?? { upTo: 0, seen: new Map<string, Finished>() };
    parsed.set(p, cache);
    const { seen } = cache;
    for (; cache.upTo < p.lines.length; cache.upTo++) {
      const line = p.lines[cache.upTo]!;
      if (!line.startsWith('{') || !line.includes('"jobId"')) continue;
      let l: { msg?: string; jobId?: string; final?: boolean; error?: string; time?: string };
      try {
        l = JSON.parse(line);
      } catch {
        continue;
      }
      const at = l.time ? Date.parse(l.time) : undefined;
      if (l.msg === 'task succeeded' && l.jobId) seen.set(l.jobId, { ok: true, at });
      else if (l.msg === 'task failed' && l.final && l.jobId) seen.set(l.jobId, { ok: false, reason: l.error ?? 'unknown', at });
    }
    for (const [id, f] of seen) all.set(id, f);
  }
  return all;
};

export interface Accounting {
  accepted: number;
  completed: number;
  failed: Map<string, number>;
  lost: string[];
  duplicates: string[];
}

/**
 * Where every accepted job ended: completed or failed (in Redis, or logged by a worker once
 * retention removed it), else lost. Waits up to `settleMs` for jobs still on their way.
 */
export const account = async (opts: {
  redis: RedisClient;
  prefix: string;
  queue: string;
  accepted: ReadonlySet<string>;
  processes: readonly RoleProcess[];
  service: CountingService;
  settleMs: number;
}): Promise<Accounting & { finished: Map<string, Finished> }> => {
  const base = `${queuePrefix(opts.prefix, opts.queue)}:${opts.queue}`;
  const snapshot = async () => {
    const finished = new Map<string, Finished>(loggedOutcomes(opts.processes));
    const [completed, failed, ...pending] = await Promise.all([
      opts.redis.zrange(`${base}:completed`, '0', '-1'),
      opts.redis.zrange(`${base}:failed`, '0', '-1'),
      opts.redis.lrange(`${base}:wait`, 0, -1),
      opts.redis.lrange(`${base}:active`, 0, -1),
      opts.redis.lrange(`${base}:paused`, 0, -1),
      opts.redis.zrange(`${base}:delayed`, '0', '-1'),
      opts.redis.zrange(`${base}:prioritized`, '0', '-1'),
    ]);
    // A run can log success and then lose its lock: the job is done only once it left these.
    for (const id of pending.flat()) finished.delete(id);
    for (const id of completed) if (!finished.get(id)?.ok) finished.set(id, { ok: true });
    const reasons = failed.length
      ? await Promise.all(failed.map((id) => opts.redis.hget(`${base}:${id}`, 'failedReason')))
      : [];
    failed.forEach((id, i) => finished.set(id, { ok: false, reason: reasons[i] ?? 'unknown' }));
    return finished;
  };
  let finished = await snapshot();
  const done = () => [...opts.accepted].every((id) => finished.has(id));
  const deadline = Date.now() + opts.settleMs;
  while (!done() && Date.now() < deadline) {
    await sleep(opts.accepted.size > 5_000 ? 2_000 : 500);
    finished = await snapshot().catch(() => finished);
  }
  // Finish times for recovery figures: from the job hash while it is retained.
  const failedReasons = new Map<string, number>();
  let completed = 0;
  const lost: string[] = [];
  for (const id of opts.accepted) {
    const f = finished.get(id);
    if (!f) lost.push(id);
    else if (f.ok) completed++;
    else failedReasons.set(f.reason.split('\n')[0]!, (failedReasons.get(f.reason.split('\n')[0]!) ?? 0) + 1);
  }
  const duplicates = opts.service.duplicates().filter((id) => opts.accepted.has(id));
  return { accepted: opts.accepted.size, completed, failed: failedReasons, lost, duplicates, finished };
};

/** When each job finished, read from its hash (ms epoch); undefined once removed. */
export const finishTimes = async (redis: RedisClient, prefix: string, queue: string, ids: readonly string[]) => {
  const base = `${queuePrefix(prefix, queue)}:${queue}`;
  const values = await Promise.all(ids.map((id) => redis.hget(`${base}:${id}`, 'finishedOn')));
  return values.map((v) => (v ? Number(v) : undefined));
};

export interface ScenarioLine extends Accounting {
  name: string;
  inFlightAtFault: number;
  recoveryMs?: number;
  /** The negative control: loss is the expected result. */
  expectLoss?: boolean;
  /** Loss is measured, not a failure (a setting that does not promise it: asynchronous replication). */
  lossAllowed?: boolean;
  note?: string;
  /** What the scenario's own check found wrong beyond loss and duplicates (it then FAILs). */
  broken?: string;
  /** What else the scenario found wrong (e.g. a job created twice): any fails it, and the line names them. */
  problems?: string[];
}

const secs = (ms: number) => `${(ms / 1_000).toFixed(1)} s`;

/** The one line a scenario prints, and whether it passes: nothing lost, duplicates within what was in flight. */
export const report = (r: ScenarioLine): { line: string; ok: boolean } => {
  const reasons = [...r.failed].map(([reason, n]) => `${n}× "${reason}"`).join('; ');
  const line =
    `${r.name}: accepted ${r.accepted}, completed ${r.completed}, failed ${[...r.failed.values()].reduce((a, b) => a + b, 0)}` +
    (reasons ? ` (${reasons})` : '') +
    `, lost ${r.lost.length}, executed more than once ${r.duplicates.length} (in flight at fault ${r.inFlightAtFault})` +
    `, recovery ${r.recoveryMs === undefined ? 'n/a' : secs(r.recoveryMs)}` +
    (r.note ? ` | ${r.note}` : '') +
    (r.broken ? ` | BROKEN: ${r.broken}` : '') +
    (r.problems?.length ? ` | PROBLEMS: ${r.problems.join('; ')}` : '');
  const ok =
    (r.expectLoss ? r.lost.length > 0 : r.lossAllowed || r.lost.length === 0) && r.duplicates.length <= r.inFlightAtFault && !r.broken && !r.problems?.length;
  const verdict = r.expectLoss ? (ok ? 'LOSS DETECTED (expected)' : 'FAIL: the checker saw no loss') : ok ? 'PASS' : 'FAIL';
  const full = `${verdict.padEnd(4)} ${line}`;
  console.log(full);
  if (process.env.FAULT_REPORT) appendFileSync(process.env.FAULT_REPORT, `${full}\n`);
  return { line: full, ok };
};

/** A line for the summary that is not a job count (e.g. a refusal to start). */
export const reportNote = (line: string): void => {
  console.log(line);
  if (process.env.FAULT_REPORT) appendFileSync(process.env.FAULT_REPORT, `${line}\n`);
};

export { secs };

/** Adds jobs as a plain BullMQ client would (the fault tasks are not in the producer's catalog), with the task's options. */
export const addRaw = async (
  redis: Redis,
  prefix: string,
  contract: AnyContract,
  payloads: readonly object[],
): Promise<string[]> => {
  const queue = new Queue(contract.queue, { connection: redis, prefix: queuePrefix(prefix, contract.queue) });
  const added = await queue.addBulk(payloads.map((data) => ({ name: contract.name, data, opts: withJobId(jobOptionsFor(contract), newJobId(contract.queue)) })));
  await queue.close();
  return added.map((j) => j.id!);
};

/** The jobs a queue holds as active right now: after a crash, the ones that were in flight. */
export const activeJobs = (redis: RedisClient, prefix: string, queue: string): Promise<string[]> =>
  redis.lrange(`${queuePrefix(prefix, queue)}:${queue}:active`, 0, -1);

/**
 * Turns every waiting job of a queue into a failed one, as the worker leaves a job that failed for
 * good with a 404 (finish time, reason, attempts, the hub's failure record): 50,000 failures in
 * seconds instead of minutes of failing HTTP calls. 1,000 per script call; the job keys are built
 * inside the script (one queue: one hash slot).
 */
export const failAllWaiting = async (redis: Redis, prefix: string, queue: string): Promise<number> => {
  const base = `${queuePrefix(prefix, queue)}:${queue}:`;
  const script = `local n = 0
for i = 1, 1000 do
  local id = redis.call('RPOP', KEYS[1])
  if not id then break end
  redis.call('HSET', ARGV[1] .. id, 'finishedOn', ARGV[2], 'processedOn', ARGV[2], 'failedReason', 'order service POST /api/orders/cancel-unpaid answered 404 Not Found', 'atm', 1, 'ats', 1, 'hubFail', 'permanent:404')
  redis.call('ZADD', KEYS[2], ARGV[2], id)
  n = n + 1
end
return n`;
  let total = 0;
  for (;;) {
    const n = (await redis.eval(script, 2, `${base}wait`, `${base}failed`, base, Date.now() - 1_000)) as number;
    total += n;
    if (n < 1_000) return total;
  }
};
