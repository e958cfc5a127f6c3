/**
 * Workflows (issue 13, part 2): a chord of `members` no-op members, against BullMQ's own
 * FlowProducer (a parent with `members` children on the same queue, the one-slot way). The figure
 * is the time from the last member's handler returning to the callback's handler starting: the
 * record script, the read of every result, the callback's add and its pick-up (hub); the parent's
 * move to wait by the last child's completion and its pick-up (raw). Also Redis commands per plain
 * (non-workflow) job, which must not change with workflows in the code.
 */
import { FlowProducer, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { queuePrefix } from '../src/core/keys.ts';
import { createLogger } from '../src/core/logger.ts';
import { createProducer } from '../src/producer/index.ts';
import { createServiceClients } from '../src/service-clients/services.ts';
import { buildRegistry } from '../src/worker/registry.ts';
import { startWorkers } from '../src/worker/start-workers.ts';
import { handlers } from '../tasks/index.ts';
import type { TaskHandler } from '../tasks/context.ts';
import { serviceNames } from '../services.config.ts';
import { deletePrefix } from './redis-util.ts';
import type { Env, Side } from './scenarios.ts';

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
const TASK = 'order.summarizeResults';

/** Redis commands sent by every ioredis connection of this process, while `work` runs. */
let commands = 0;
let counting = false;
const sendCommand = Redis.prototype.sendCommand;
Redis.prototype.sendCommand = function (this: Redis, ...args: Parameters<Redis['sendCommand']>) {
  if (counting) commands++;
  return sendCommand.apply(this, args);
} as Redis['sendCommand'];

type Clock = { memberEnd: number; callbackStart: number; done?: () => void };

const hubChords = async (env: Env, chords: number, members: number, plain: number) => {
  const prefix = env.nextPrefix('hub');
  const clock: Clock = { memberEnd: 0, callbackStart: 0 };
  // The shipped no-op (order.summarizeResults of nothing) as member and callback, timed.
  const timed = handlers.map((h): TaskHandler =>
    h.contract.name !== TASK
      ? h
      : {
          contract: h.contract,
          async run(input, ctx) {
            const callback = ctx.job.jobId.endsWith(`-${members}`);
            if (callback) clock.callbackStart = performance.now();
            const out = await h.run(input, ctx);
            if (callback) clock.done?.();
            else clock.memberEnd = Math.max(clock.memberEnd, performance.now());
            return out;
          },
        },
  );
  const urls = Object.fromEntries(serviceNames.map((n) => [n, env.stubUrl])) as Parameters<typeof createServiceClients>[0];
  const log = createLogger({ name: 'bench', level: 'silent' });
  const workers = await startWorkers({ redisUrl: env.redisUrl, prefix, queues: ['order'], registry: buildRegistry(timed), http: createServiceClients(urls, 5_000), log, concurrency: 50 });
  const producer = createProducer({ redisUrl: env.redisUrl, prefix, service: 'bench', timeoutMs: 30_000 });
  const gaps: number[] = [];
  try {
    for (let c = 0; c < chords; c++) {
      clock.memberEnd = 0;
      const finished = new Promise<void>((r) => (clock.done = r));
      await producer.chord(Array.from({ length: members }, () => ({ task: TASK, payload: { results: [] } })), { task: TASK, payload: {}, from: { results: '$' } });
      await finished;
      gaps.push(clock.callbackStart - clock.memberEnd);
    }
    // Plain jobs (no workflow): Redis commands per job, all connections of this process.
    const jobs = Array.from({ length: plain }, () => ({ task: TASK as typeof TASK, payload: { results: [] } }));
    const waiter = producer.waitFor((await producer.enqueueMany([{ task: TASK, payload: { results: [] } }]))[0]!);
    await waiter;
    commands = 0;
    counting = true;
    const added = await producer.enqueueMany(jobs);
    await producer.waitFor(added.at(-1)!, { timeoutMs: 60_000 });
    await Promise.all(added.slice(-50).map((j) => producer.waitFor(j)));
    counting = false;
    return { gaps, commandsPerPlainJob: commands / plain };
  } finally {
    counting = false;
    await workers.close(1_000);
    await producer.close();
    await deletePrefix(env.redis, prefix);
  }
};

const rawChords = async (env: Env, chords: number, members: number) => {
  const prefix = queuePrefix(env.nextPrefix('raw'), 'order');
  const connection = new Redis(env.redisUrl, { maxRetriesPerRequest: null });
  const clock: Clock = { memberEnd: 0, callbackStart: 0 };
  const worker = new Worker(
    'order',
    async (job) => {
      if (job.name === 'callback') {
        clock.callbackStart = performance.now();
        clock.done?.();
      } else clock.memberEnd = Math.max(clock.memberEnd, performance.now());
      return { ok: true };
    },
    { connection, prefix, concurrency: 50 },
  );
  const flows = new FlowProducer({ connection, prefix });
  const gaps: number[] = [];
  try {
    for (let c = 0; c < chords; c++) {
      clock.memberEnd = 0;
      const finished = new Promise<void>((r) => (clock.done = r));
      await flows.add({ name: 'callback', queueName: 'order', data: {}, children: Array.from({ length: members }, () => ({ name: 'member', queueName: 'order', data: {} })) });
      await finished;
      gaps.push(clock.callbackStart - clock.memberEnd);
    }
    return { gaps, commandsPerPlainJob: 0 };
  } finally {
    await worker.close();
    await flows.close();
    connection.disconnect();
    await deletePrefix(env.redis, prefix.slice(1, prefix.lastIndexOf('-')));
  }
};

/** p50 / p95 of the gap over `chords` chords of `members`; the hub's side also counts commands per plain job. */
export const chordCallbackGap = async (env: Env, side: Side, chords: number, members: number, plain = 2_000) => {
  const { gaps, commandsPerPlainJob } = side === 'hub' ? await hubChords(env, chords, members, plain) : await rawChords(env, chords, members);
  const sorted = [...gaps].sort((a, b) => a - b);
  return { p50: percentile(sorted, 50), p95: percentile(sorted, 95), commandsPerPlainJob };
};
