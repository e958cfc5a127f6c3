import { Queue } from 'bullmq';
import { queues as queueSpecs } from '../../queues.config.ts';
import type { Env } from '../config/env.ts';
import { ConfigError } from '../core/errors.ts';
import { queuePrefix } from '../core/keys.ts';
import type { Logger } from '../core/logger.ts';
import { withLock } from '../core/redis-lock.ts';
import { createRedis, describeTarget, whenReady, type RedisClient } from '../core/redis.ts';
import { redisTargetOf } from '../config/redis-target.ts';
import { checkHubEvents } from '../producer/publish.ts';
import { firstRuns } from './first-run.ts';
import { loadSchedule } from './load-schedule.ts';
import { startLoop } from './loop.ts';
import { nextRunsTable } from './next-runs-table.ts';
import { planEntries, type PlannedEntry } from './plan-entries.ts';
import { beatLockKey } from '../core/schedule-state.ts';
import { applyChanges, pausedEntries, planChanges, type Change, type ReconcileTarget } from './reconcile.ts';

export interface BeatOptions {
  /** Entries to reconcile (messages call them "schedule"); BEAT_SCHEDULE's or schedule.ts's by default. Checked at start either way. */
  schedule?: readonly unknown[];
  /** Reconcile once (waiting for the lock if a replica holds it), then return. */
  once?: boolean;
  /** Print what would change, change nothing, then return. */
  dryRun?: boolean;
  /** Overrides BEAT_RECONCILE_MS. */
  reconcileMs?: number;
  /** Where the next-runs table and the dry-run plan go (stdout by default). */
  print?: (text: string) => void;
}

export interface BeatHandle {
  stop(): Promise<void>;
  /** One reconcile round now (the periodic loop runs them too). */
  reconcile(): Promise<{ locked: boolean; changes: Change[] }>;
}

const waitReady = (redis: RedisClient, where: string, ms: number) =>
  whenReady(redis, ms).catch(() => {
    throw new ConfigError(`beat: Redis at ${where} did not answer within ${ms} ms (check REDIS_URL${where.startsWith('cluster') ? ' and REDIS_CLUSTER_NODES' : ''})`);
  });

const describe = (c: Change) => `${c.action.padEnd(8)} ${c.id} (queue ${c.queue})${c.details.length ? `: ${c.details.join('; ')}` : ''}`;

/** The beat role: keeps schedule.ts in Redis as BullMQ job schedulers. Used by `npm run beat` and `npm start`. */
export const runBeat = async (env: Env, log: Logger, opts: BeatOptions = {}): Promise<BeatHandle> => {
  checkHubEvents(); // every role refuses to start on a broken events.ts, beat too
  const { entries: written, source } = opts.schedule ? { entries: opts.schedule, source: 'schedule' } : await loadSchedule(env.BEAT_SCHEDULE);
  const entries: PlannedEntry[] = planEntries(written, source);
  const print = opts.print ?? ((text: string) => void process.stdout.write(text));
  const reconcileMs = opts.reconcileMs ?? env.BEAT_RECONCILE_MS;
  const redisTarget = redisTargetOf(env);
  const where = describeTarget(redisTarget);
  const redis = createRedis(redisTarget, 'producer', { onError: (m) => log.error(m) });
  const queues = new Map<string, Queue>();
  const target: ReconcileTarget = {
    redis,
    hubPrefix: env.HUB_PREFIX,
    queueNames: Object.keys(queueSpecs),
    queue(name) {
      let q = queues.get(name);
      if (!q) {
        q = new Queue(name, { connection: redis, prefix: queuePrefix(env.HUB_PREFIX, name) });
        // While disconnected every queue repeats the connection's error, which createRedis already logs once.
        q.on('error', (err) => redis.status === 'ready' && log.error({ queue: name, err: err.message }, 'queue error'));
        queues.set(name, q);
      }
      return q;
    },
  };
  const close = async () => {
    await Promise.all([...queues.values()].map((q) => q.close()));
    redis.disconnect();
  };
  const lockKey = beatLockKey(env.HUB_PREFIX);

  const reconcile = async () => {
    const outcome = await withLock(redis, lockKey, { ttlMs: env.BEAT_LOCK_MS }, async () => {
      const changes = await planChanges(target, entries);
      await applyChanges(target, changes);
      return changes;
    });
    if (!outcome.acquired) {
      log.debug('another beat replica is reconciling; skipped this round');
      return { locked: false, changes: [] };
    }
    for (const c of outcome.result) {
      const fields = { schedule: c.id, queue: c.queue, action: c.action, details: c.details };
      if (c.action === 'conflict') log.error(fields, `schedule "${c.id}" not applied: ${c.details.join('; ')}`);
      else log.info(fields, `scheduler ${c.action === 'remove' ? 'removed' : `${c.action}d`}: ${c.id}`);
    }
    return { locked: true, changes: outcome.result };
  };

  /** `pending`: the changes a dry run would make, so the table shows the runs they would give. */
  const printTable = async (pending?: readonly Change[]) => {
    const now = Date.now();
    print(nextRunsTable(entries, now, await firstRuns(target, entries, now, pending), 3, await pausedEntries(target, entries)));
  };

  log.info({ redis: where, prefix: env.HUB_PREFIX, schedule: source, entries: entries.length, reconcileMs, once: !!opts.once, dryRun: !!opts.dryRun }, 'beat starting');
  try {
    await waitReady(redis, where, 10_000);
    if (opts.dryRun) {
      const changes = await planChanges(target, entries);
      print(changes.length ? `dry run: would apply ${changes.length} change(s):\n${changes.map((c) => `  ${describe(c)}\n`).join('')}` : `dry run: Redis already matches ${source}\n`);
      await printTable(changes);
    } else if (opts.once) {
      let round = await reconcile();
      const deadline = Date.now() + env.BEAT_LOCK_MS + 1_000;
      while (!round.locked && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 200));
        round = await reconcile();
      }
      if (!round.locked) throw new ConfigError(`beat --once: the reconcile lock stayed taken for ${env.BEAT_LOCK_MS} ms`);
      const conflicts = round.changes.filter((c) => c.action === 'conflict');
      if (conflicts.length) throw new ConfigError(`beat --once: ${conflicts.length} entr${conflicts.length === 1 ? 'y' : 'ies'} of ${source} not applied:\n${conflicts.map((c) => `  ${describe(c)}`).join('\n')}`);
      await printTable();
    }
  } catch (err) {
    await close();
    throw err;
  }
  if (opts.dryRun || opts.once) {
    await close();
    return { stop: async () => {}, reconcile: () => Promise.reject(new Error('beat was started with --once or --dry-run')) };
  }

  const loop = await startLoop(reconcile, reconcileMs, log);
  await printTable().catch((err: Error) => log.warn({ err: err.message }, 'could not read next runs'));
  log.info({ reconcileMs }, 'beat running');

  return {
    reconcile,
    async stop() {
      await loop.stop();
      await close();
      log.info('beat stopped');
    },
  };
};
