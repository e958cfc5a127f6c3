import { userInfo } from 'node:os';
import { parseArgs } from 'node:util';
import { loadEnv } from '../config/env.ts';
import { createControl } from '../control/control.ts';
import { ControlError } from '../control/errors.ts';
import { ConfigError, EnqueueError, IdempotencyConflictError, InvalidOptionError, InvalidPayloadError, PayloadTooLargeError, UnknownEventError, UnknownTaskError } from '../core/errors.ts';
import { createRedis, describeTarget, type RedisClient, type RedisTarget } from '../core/redis.ts';
import { redisTargetOf } from '../config/redis-target.ts';
import { CliUsageError, type Command } from './command.ts';
import { cancel, enqueue, job, jobs } from './commands/jobs.ts';
import { queues } from './commands/queues.ts';
import { replay } from './commands/replay.ts';
import { schedules } from './commands/schedules.ts';
import { auditLog, stats } from './commands/stats.ts';

export const COMMANDS: readonly Command[] = [enqueue, job, jobs, cancel, replay, schedules, queues, stats, auditLog];

export const EXIT = { ok: 0, failure: 1, usage: 2, notFound: 3, conflict: 4 } as const;

const GLOBAL_OPTIONS = { json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } as const;

export const mainHelp = () => `task-hub: operate the hub from a shell (REDIS_URL, HUB_PREFIX, BEAT_SCHEDULE from the environment)

usage: task-hub <command> [arguments] [--json] [--help]

commands:
${COMMANDS.map((c) => `  ${c.name.padEnd(10)} ${c.summary}`).join('\n')}

  --json   machine-readable output (one JSON document on stdout)
  --help   usage of a command: task-hub <command> --help

exit codes: 0 ok, 1 failure (Redis unreachable, an unexpected error), 2 usage error or bad input,
            3 not found or nothing matched, 4 conflict
Actions are recorded in the audit log as cli:<os user>.
`;

export interface CliIo {
  out: (text: string) => void;
  err: (text: string) => void;
  env?: NodeJS.ProcessEnv;
}

const who = () => {
  try {
    return `cli:${userInfo().username}`;
  } catch {
    return `cli:uid-${process.getuid?.() ?? 'unknown'}`;
  }
};

/** Connects, failing fast: a CLI must not hang on a Redis that does not answer. */
const connect = async (target: RedisTarget, timeoutMs = 5_000): Promise<RedisClient> => {
  const redis = createRedis(target, 'producer', { lazyConnect: true, retryStrategy: () => null });
  try {
    await Promise.race([
      redis.connect(),
      new Promise((_, reject) => setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs).unref()),
    ]);
    return redis;
  } catch (err) {
    redis.disconnect();
    throw new ConfigError(`cannot reach Redis at ${describeTarget(target)}: ${(err as Error).message} (set REDIS_URL, or REDIS_CLUSTER_NODES)`);
  }
};

const BAD_INPUT = [InvalidPayloadError, UnknownTaskError, UnknownEventError, InvalidOptionError, PayloadTooLargeError];

/** Runs one command line; answers the exit code. Never calls process.exit (tests run it in process). */
export const runCli = async (argv: readonly string[], io: CliIo): Promise<number> => {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    const topic = name === 'help' ? COMMANDS.find((c) => c.name === rest[0]) : undefined;
    io.out(topic ? `${topic.help}\n` : mainHelp());
    return EXIT.ok;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) {
    io.err(`task-hub: unknown command "${name}"\n\n${mainHelp()}`);
    return EXIT.usage;
  }
  let values: Record<string, string | boolean | undefined>;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({ args: [...rest], options: { ...GLOBAL_OPTIONS, ...command.options }, allowPositionals: true, strict: true }) as {
      values: Record<string, string | boolean | undefined>;
      positionals: string[];
    });
  } catch (err) {
    io.err(`task-hub ${name}: ${(err as Error).message}\n\n${command.help}\n`);
    return EXIT.usage;
  }
  if (values.help) {
    io.out(`${command.help}\n`);
    return EXIT.ok;
  }
  let redis: RedisClient | undefined;
  let control: ReturnType<typeof createControl> | undefined;
  try {
    const env = loadEnv(io.env ?? process.env);
    redis = await connect(redisTargetOf(env));
    control = createControl({ connection: redis, prefix: env.HUB_PREFIX, schedulePath: env.BEAT_SCHEDULE, beatLockMs: env.BEAT_LOCK_MS });
    return await command.run({ control, who: who(), json: values.json === true, out: io.out, err: io.err }, values, positionals);
  } catch (err) {
    const e = err as Error;
    if (err instanceof CliUsageError) {
      io.err(`task-hub ${name}: ${e.message}\n\n${command.help}\n`);
      return EXIT.usage;
    }
    if (err instanceof ControlError) {
      io.err(`task-hub ${name}: ${e.message}\n`);
      return err.exitCode;
    }
    if (err instanceof IdempotencyConflictError) {
      io.err(`task-hub ${name}: ${e.message}\n`);
      return EXIT.conflict;
    }
    if (BAD_INPUT.some((k) => err instanceof k)) {
      io.err(`task-hub ${name}: ${e.message}\n`);
      return EXIT.usage;
    }
    if (err instanceof ConfigError) {
      // Redis unreachable, a bad environment or schedule: the message says what to fix.
      io.err(`task-hub ${name}: ${e.message}\n`);
      return EXIT.failure;
    }
    io.err(`task-hub ${name}: ${err instanceof EnqueueError ? e.message : `failed: ${e.message}`}\n`);
    return EXIT.failure;
  } finally {
    await control?.close().catch(() => {});
    redis?.disconnect();
  }
};
