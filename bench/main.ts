/**
 * `npm run bench`: the hub against raw BullMQ doing the same work, against REDIS_URL under a
 * private prefix (deleted after). Each figure runs 3 rounds, alternating which side goes
 * first; medians are printed as a table and as one JSON line per figure.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { publishRate } from './events.ts';
import { chordCallbackGap } from './workflows.ts';
import { flowRows } from './flow.ts';
import { bench } from './tasks.ts';
import { jsonLine, median, table, type Figure } from './report.ts';
import { deletePrefix } from './redis-util.ts';
import { cleanUp as clusterCleanUp, durabilityEnqueueRate, spreadDrain, spreadEnqueueRate, startClusterBench } from './cluster.ts';
import { replayRate } from './replay.ts';
import { bulkRate, drain, enqueueRate, latency, type Env, type Side } from './scenarios.ts';
import { cancelLatency } from './cancel.ts';
import { shippedDrain, shippedLatency, type Runner } from './shipped.ts';
import { startStub } from './stub.ts';
import { tracedDrain } from './tracing.ts';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const SIZES = {
  enqueue: Number(process.env.BENCH_ENQUEUE ?? 10_000),
  bulk: Number(process.env.BENCH_BULK ?? 20_000),
  drain: Number(process.env.BENCH_DRAIN ?? 20_000),
  http: Number(process.env.BENCH_HTTP ?? 5_000),
  latency: Number(process.env.BENCH_LATENCY ?? 300),
  shipped: Number(process.env.BENCH_SHIPPED ?? 8_000),
  shippedLatency: Number(process.env.BENCH_SHIPPED_LATENCY ?? 400),
  cancel: Number(process.env.BENCH_CANCEL ?? 200),
  publish: Number(process.env.BENCH_PUBLISH ?? 5_000),
  cluster: Number(process.env.BENCH_CLUSTER_DRAIN ?? 20_000),
  replay: Number(process.env.BENCH_REPLAY ?? 50_000),
  flowCalls: Number(process.env.BENCH_FLOW_CALLS ?? 5_000),
  flowUtilisation: Number(process.env.BENCH_FLOW_UTILISATION ?? 200),
  chords: Number(process.env.BENCH_CHORDS ?? 10),
  chordMembers: Number(process.env.BENCH_CHORD_MEMBERS ?? 1_000),
};
const only = process.env.BENCH_ONLY?.split(';');

const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const base = `bench${randomBytes(4).toString('hex')}`;
const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
const stub = await startStub();
const dir = mkdtempSync(join(tmpdir(), 'task-hub-bench-'));
let runs = 0;
const env: Env = { redisUrl, redis, stubUrl: stub.url, dir, nextPrefix: (side: Side) => `${base}-${side}${++runs}` };
const figures: Figure[] = [];
const cleanUp = async () => {
  await deletePrefix(redis, base).catch(() => {});
  redis.disconnect();
  await stub.close();
  rmSync(dir, { recursive: true, force: true });
};
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => void cleanUp().finally(() => process.exit(130)));
}
const started = Date.now();

type Units = Record<string, [string, 'higher' | 'lower']>;

/**
 * Rounds of both sides, alternating who goes first; `run` may yield several named figures.
 * `warmUp`: one untimed round of each side first, for figures measured in this process (the
 * enqueue rows), whose JIT state carries over between rounds: without it the side that goes
 * first in round 0 runs on colder code than everything after it.
 */
const alternate = (name: string, run: (side: Side) => Promise<Record<string, number>>, units: Units, warmUp = false) =>
  compare(
    name,
    async (r) => {
      if (warmUp && r === 0) for (const side of ['raw', 'hub'] as Side[]) await run(side);
      const out = {} as Record<Side, Record<string, number>>;
      for (const side of (r % 2 ? ['raw', 'hub'] : ['hub', 'raw']) as Side[]) out[side] = await run(side);
      return out;
    },
    units,
  );

/** ROUNDS rounds of `run` (which measures both sides); medians per figure. `sides` names the columns when they are not hub and raw. */
const compare = async (name: string, run: (round: number) => Promise<Record<Side, Record<string, number>>>, units: Units, sides?: [string, string]) => {
  if (only && !only.some((o) => name.startsWith(o))) return;
  const results: Record<Side, Record<string, number>[]> = { hub: [], raw: [] };
  for (let r = 0; r < ROUNDS; r++) {
    const out = await run(r);
    results.hub.push(out.hub);
    results.raw.push(out.raw);
  }
  for (const [key, [unit, better]] of Object.entries(units)) {
    const hubRuns = results.hub.map((x) => x[key]!);
    const rawRuns = results.raw.map((x) => x[key]!);
    const f: Figure = { figure: key, unit, better, hub: median(hubRuns), raw: median(rawRuns), hubRuns, rawRuns, ...(sides ? { sides } : {}) };
    figures.push(f);
    console.log(jsonLine(f));
  }
};

const rate: [string, 'higher'] = ['jobs/s', 'higher'];
try {
  const redisVersion = /redis_version:(\S+)/.exec(await redis.info('server'))?.[1];
  const bullmqVersion = (createRequire(import.meta.url)('bullmq/package.json') as { version: string }).version;
  console.error(`bench: redis ${redisUrl.replace(/\/\/[^@]*@/, '//***@')}, prefix ${base}-*, logs in ${dir}`);
  console.error(
    `bench: node ${process.version}, bullmq ${bullmqVersion}, redis ${redisVersion}, ${availableParallelism()} cores, load average ${loadavg()[0]!.toFixed(1)}`,
  );
  // A plain task's enqueue is what every capability must leave free; a keyed task's shows what its business-key index costs.
  for (const [kind, label] of [['plain', ''], ['keyed', ', task with a business key']] as const) {
    const one = `enqueue${label} (100 in flight)`;
    await alternate(one, async (s) => ({ [one]: await enqueueRate(env, s, SIZES.enqueue, kind) }), { [one]: rate }, true);
    const bulk = `bulk enqueue${label} (batches of 1000)`;
    await alternate(bulk, async (s) => ({ [bulk]: await bulkRate(env, s, SIZES.bulk, 1_000, kind) }), { [bulk]: rate }, true);
  }
  for (const keyed of [false, true]) {
    const name = `publish to 3 subscribers${keyed ? ", caller's event id" : ''} (50 in flight)`;
    const cpu = `publisher CPU per event${keyed ? ", caller's event id" : ''}`;
    await alternate(
      name,
      async (s) => {
        const p = await publishRate(env, s, SIZES.publish, keyed);
        return { [name]: p.rate, [cpu]: p.cpuUs };
      },
      { [name]: ['events/s', 'higher'], [cpu]: ['µs', 'lower'] },
      true,
    );
  }
  // Issue 13 part 2: a chord's callback after its last member, against BullMQ's FlowProducer parent after its last child (one queue).
  const chordName = `chord of ${SIZES.chordMembers.toLocaleString('en')} no-op members: last member done to callback start`;
  await alternate(
    chordName,
    async (s) => {
      const c = await chordCallbackGap(env, s, SIZES.chords, SIZES.chordMembers);
      return { [`${chordName} p50`]: c.p50, [`${chordName} p95`]: c.p95 };
    },
    { [`${chordName} p50`]: ['ms', 'lower'], [`${chordName} p95`]: ['ms', 'lower'] },
  );
  for (const c of [1, 10, 50]) {
    const name = `drain no-op, concurrency ${c}`;
    await alternate(
      name,
      async (s) => {
        const d = await drain(env, s, bench.benchNoop, SIZES.drain, c);
        return {
          [name]: d.rate,
          [`worker CPU per job, concurrency ${c}`]: d.cpuUsPerJob,
          'worker RSS after drain (MB)': d.rss / 2 ** 20,
          'Redis bytes per retained completed job': d.bytesPerJob,
        };
      },
      c === 50
        ? {
            [name]: rate,
            [`worker CPU per job, concurrency ${c}`]: ['µs', 'lower'],
            'worker RSS after drain (MB)': ['MB', 'lower'],
            'Redis bytes per retained completed job': ['bytes', 'lower'],
          }
        : { [name]: rate, [`worker CPU per job, concurrency ${c}`]: ['µs', 'lower'] },
    );
  }
  await alternate('drain HTTP', async (s) => ({ 'drain HTTP call, concurrency 20': (await drain(env, s, bench.benchHttp, SIZES.http, 20)).rate }), {
    'drain HTTP call, concurrency 20': rate,
  });
  // Tracing on (OTLP/HTTP JSON to a local receiver): the same HTTP drain, and what tracing costs a job.
  await compare(
    'drain HTTP call, tracing on',
    async () => {
      const t = await tracedDrain(env, SIZES.http, 20);
      console.error(`bench: tracing on: ${t.spansPerJob.toFixed(2)} spans exported per job`);
      return {
        hub: { 'drain HTTP call, tracing on, concurrency 20': t.traced.rate, 'worker CPU per job, HTTP call, tracing on': t.traced.cpuUsPerJob, 'tracing cost per job (worker CPU, on minus off)': t.traced.cpuUsPerJob - t.untraced.cpuUsPerJob },
        raw: { 'drain HTTP call, tracing on, concurrency 20': t.raw.rate, 'worker CPU per job, HTTP call, tracing on': t.raw.cpuUsPerJob, 'tracing cost per job (worker CPU, on minus off)': 0 },
      };
    },
    {
      'drain HTTP call, tracing on, concurrency 20': rate,
      'worker CPU per job, HTTP call, tracing on': ['µs', 'lower'],
      'tracing cost per job (worker CPU, on minus off)': ['µs', 'lower'],
    },
  );
  // Both sides in each round, taking turns job by job (see scenarios.ts).
  await compare(
    'latency',
    async () => {
      const l = await latency(env, SIZES.latency, Number(process.env.BENCH_LATENCY_CONCURRENCY ?? 20));
      const row = (s: Side) => ({ 'latency p50': l[s].p50, 'latency p95': l[s].p95, 'latency p99': l[s].p99 });
      return { hub: row('hub'), raw: row('raw') };
    },
    { 'latency p50': ['ms', 'lower'], 'latency p95': ['ms', 'lower'], 'latency p99': ['ms', 'lower'] },
  );
  // The path that ships: the real worker entry as its own process, a shipped task, against plain BullMQ + got.
  const wanted = (name: string) => !only || only.some((o) => name.startsWith(o));
  if (wanted('shipped drain, compiled') || wanted('shipped latency')) {
    console.error('bench: npm run build (the compiled entry the Docker image runs)');
    execFileSync('npm', ['run', 'build'], { stdio: 'ignore' });
  }
  for (const [runner, label] of [['hub-dist', 'compiled (npm run worker, Docker image)'], ['hub-tsx', 'tsx entry']] as [Runner, string][]) {
    const name = `shipped drain, ${label}`;
    await alternate(
      name,
      async (s) => {
        const d = await shippedDrain(env, s === 'hub' ? runner : 'raw', SIZES.shipped);
        return {
          [name]: d.rate,
          [`shipped worker CPU per job, ${label}`]: d.cpuUsPerJob,
          [`worker start to ready, ${label}`]: d.startMs,
          [`worker RSS idle, ${label}`]: d.rssIdleMb,
          [`worker RSS after drain, ${label}`]: d.rssAfterMb,
          [`Redis commands per job, ${label}`]: d.commandsPerJob,
        };
      },
      {
        [name]: rate,
        [`shipped worker CPU per job, ${label}`]: ['µs', 'lower'],
        [`worker start to ready, ${label}`]: ['ms', 'lower'],
        [`worker RSS idle, ${label}`]: ['MB', 'lower'],
        [`worker RSS after drain, ${label}`]: ['MB', 'lower'],
        [`Redis commands per job, ${label}`]: ['commands', 'lower'],
      },
    );
  }
  await compare(
    'shipped latency',
    async () => {
      const l = await shippedLatency(env, 'hub-dist', SIZES.shippedLatency);
      const row = (s: Side) => ({ 'shipped latency p50': l[s].p50, 'shipped latency p95': l[s].p95, 'shipped latency p99': l[s].p99 });
      return { hub: row('hub'), raw: row('raw') };
    },
    { 'shipped latency p50': ['ms', 'lower'], 'shipped latency p95': ['ms', 'lower'], 'shipped latency p99': ['ms', 'lower'] },
  );
  // Issue 14: a running job in a worker process, cancelled from here; until its HTTP call is dropped.
  await compare(
    'cancel',
    async () => {
      const l = await cancelLatency(env, SIZES.cancel);
      const row = (s: Side) => ({ 'cancel to abort p50': l[s].p50, 'cancel to abort p95': l[s].p95 });
      return { hub: row('hub'), raw: row('raw') };
    },
    { 'cancel to abort p50': ['ms', 'lower'], 'cancel to abort p95': ['ms', 'lower'] },
  );
  // The cost of cluster mode (bench/cluster.ts): the same hub on a 3-master cluster and on one Redis, on this machine.
  const clusterNames = ['cluster: enqueue', 'cluster: drain', 'durability replicated'];
  if (!only || only.some((o) => clusterNames.some((n) => n.startsWith(o)))) {
    const cb = await startClusterBench(dir);
    try {
      const both = async (run: (where: 'cluster' | 'single', prefix: string) => Promise<Record<string, number>>, r: number) => {
        const out = {} as Record<Side, Record<string, number>>;
        for (const where of (r % 2 ? ['single', 'cluster'] : ['cluster', 'single']) as ('cluster' | 'single')[]) {
          const prefix = env.nextPrefix(where === 'cluster' ? 'hub' : 'raw');
          out[where === 'cluster' ? 'hub' : 'raw'] = await run(where, prefix).finally(() => clusterCleanUp(cb, where, prefix));
        }
        return out;
      };
      const sides: [string, string] = ['cluster', 'one Redis'];
      await compare(
        'cluster: enqueue',
        (r) =>
          both(async (where, prefix) => {
            const e = await spreadEnqueueRate(cb, where, prefix, SIZES.enqueue);
            return { 'cluster: enqueue over 4 queues (100 in flight)': e.rate, 'cluster: Redis CPU per enqueue': e.redisUsPerJob };
          }, r),
        { 'cluster: enqueue over 4 queues (100 in flight)': rate, 'cluster: Redis CPU per enqueue': ['µs', 'lower'] },
        sides,
      );
      await compare(
        'cluster: drain',
        (r) =>
          both(async (where, prefix) => {
            const d = await spreadDrain(cb, where, prefix, SIZES.cluster, join(dir, `worker-${where}.log`));
            return { 'cluster: drain no-op over 4 queues, concurrency 50': d.rate, 'cluster: worker CPU per job': d.cpuUsPerJob, 'cluster: Redis CPU per drained job': d.redisUsPerJob };
          }, r),
        { 'cluster: drain no-op over 4 queues, concurrency 50': rate, 'cluster: worker CPU per job': ['µs', 'lower'], 'cluster: Redis CPU per drained job': ['µs', 'lower'] },
        sides,
      );
      await compare(
        'durability replicated',
        async (r) => {
          const out = {} as Record<Side, Record<string, number>>;
          for (const side of (r % 2 ? ['raw', 'hub'] : ['hub', 'raw']) as Side[]) {
            const prefix = env.nextPrefix(side);
            const n = await durabilityEnqueueRate(cb, side === 'hub' ? 'replicated' : 'primary', prefix, SIZES.enqueue).finally(() => clusterCleanUp(cb, 'single', prefix));
            out[side] = { "durability 'replicated': enqueue (100 in flight), one Redis + replica": n };
          }
          return out;
        },
        { "durability 'replicated': enqueue (100 in flight), one Redis + replica": rate },
        ['replicated', 'primary'],
      );
    } finally {
      await cb.stop();
    }
  }
  // Issue 14: the hub's replay (filtered, each failure claimed once) against BullMQ's retryJobs (everything, no filter).
  const replayName = `replay ${SIZES.replay.toLocaleString('en')} failed jobs`;
  await alternate(
    replayName,
    async (s) => {
      const r = await replayRate(env, s, SIZES.replay);
      return { [replayName]: r.rate, 'longest Redis block during the replay': r.maxBlockMs };
    },
    { [replayName]: rate, 'longest Redis block during the replay': ['ms', 'lower'] },
  );
  // Flow control (issue 15): limited against unlimited, in a table of its own.
  const flow = wanted('flow') ? await flowRows(env, ROUNDS, { calls: SIZES.flowCalls, utilisation: SIZES.flowUtilisation }) : '';
  console.log(`\n${table(figures)}\n`);
  if (flow) console.log(`${flow}\n`);
  console.error(`bench: ${((Date.now() - started) / 1_000).toFixed(0)} s, load average at the end ${loadavg()[0]!.toFixed(1)}`);
} finally {
  await cleanUp();
}
