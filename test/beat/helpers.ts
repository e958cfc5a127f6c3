import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { Writable } from 'node:stream';
import { cart } from '../../src/contracts/index.ts';
import { loadEnv, type Env } from '../../src/config/env.ts';
import { createLogger, type Logger } from '../../src/core/logger.ts';
import { buildRegistry } from '../../src/worker/registry.ts';
import { handle } from '../../tasks/context.ts';
import { handlers } from '../../tasks/index.ts';
import { Lines } from '../helpers/lines.ts';
import { testRedisUrl } from '../helpers/test-hub.ts';

export const TICK_SCHEDULE = 'test/beat/fixtures/tick-schedule.ts';

export const beatEnv = (prefix: string, extra: Record<string, string> = {}): Env =>
  loadEnv({ NODE_ENV: 'test', LOG_LEVEL: 'debug', REDIS_URL: testRedisUrl(), HUB_PREFIX: prefix, ...extra });

/** A logger whose lines tests can read and wait on. */
export const captureLog = (name = 'beat'): { log: Logger; lines: Lines } => {
  const lines = new Lines();
  const sink = new Writable({ write: (chunk, _enc, done) => (lines.push(chunk.toString()), done()) });
  return { log: createLogger({ name, level: 'debug', destination: sink }), lines };
};

/**
 * The worker's registry with cart.purgeExpiredCarts (the tick fixture's task) replaced by one
 * that records which job, from which schedule, ran. Everything else is the real worker path.
 */
export const tickRecorder = () => {
  const runs: { jobId: string; schedule?: string; at: number }[] = [];
  const events = new EventEmitter();
  const registry = buildRegistry([
    ...handlers.filter((h) => h.contract !== cart.purgeExpiredCarts),
    handle(cart.purgeExpiredCarts, async (_input, ctx) => {
      runs.push({ jobId: ctx.job.jobId, schedule: ctx.job.schedule, at: Date.now() });
      events.emit('run', runs.length);
      return { purged: 0 };
    }),
  ]);
  const waitForRuns = (count: number, timeoutMs = 20_000) =>
    runs.length >= count
      ? Promise.resolve()
      : new Promise<void>((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error(`only ${runs.length} of ${count} runs within ${timeoutMs} ms`)), timeoutMs);
          const listener = (n: number) => n >= count && (clearTimeout(timer), events.off('run', listener), resolve());
          events.on('run', listener);
        });
  /** Scheduled fire times (ms) from the job ids `repeat:<scheduler>:<millis>`, sorted. */
  const ticks = () => runs.map((r) => Number(r.jobId.split(':').pop())).sort((a, b) => a - b);
  return { registry, runs, waitForRuns, ticks };
};

/** Every tick exactly once, each one interval after the previous: no duplicates, no gaps. */
export const gapsOf = (ticks: number[]): number[] => ticks.slice(1).map((t, i) => t - ticks[i]!);

/**
 * `npm run beat` as a real process, with its output as lines. One process, as the npm script
 * runs it (node --import tsx): the tsx CLI would fork a child that a SIGKILL of its parent orphans.
 */
export const spawnBeat = (env: Record<string, string>, args: string[] = []) => {
  const lines = new Lines();
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'src/beat/main.ts', ...args], {
    env: { ...process.env, NODE_ENV: 'test', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (d: Buffer) => lines.push(d.toString()));
  child.stderr!.on('data', (d: Buffer) => lines.push(d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  void exited.then(() => lines.end('beat exited'));
  return { child, lines, exited };
};
