/**
 * `npm run bench`: the hub against raw BullMQ doing the same work, against REDIS_URL under a
 * private prefix (deleted after). Each figure runs 3 rounds, alternating which side goes
 * first; medians are printed as a table and as one JSON line per figure.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { bench } from './tasks.ts';
import { jsonLine, median, table, type Figure } from './report.ts';
import { deletePrefix } from './redis-util.ts';
import { bulkRate, drain, enqueueRate, latency, type Env, type Side } from './scenarios.ts';
import { startStub } from './stub.ts';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const SIZES = {
  enqueue: Number(process.env.BENCH_ENQUEUE ?? 10_000),
  bulk: Number(process.env.BENCH_BULK ?? 20_000),
  drain: Number(process.env.BENCH_DRAIN ?? 20_000),
  http: Number(process.env.BENCH_HTTP ?? 5_000),
  latency: Number(process.env.BENCH_LATENCY ?? 300),
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

/** ROUNDS rounds of `run` (which measures both sides); medians per figure. */
const compare = async (name: string, run: (round: number) => Promise<Record<Side, Record<string, number>>>, units: Units) => {
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
    const f: Figure = { figure: key, unit, better, hub: median(hubRuns), raw: median(rawRuns), hubRuns, rawRuns };
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
  await alternate('enqueue', async (s) => ({ 'enqueue (100 in flight)': await enqueueRate(env, s, SIZES.enqueue) }), {
    'enqueue (100 in flight)': rate,
  }, true);
  await alternate('bulk', async (s) => ({ 'bulk enqueue (batches of 1000)': await bulkRate(env, s, SIZES.bulk, 1_000) }), {
    'bulk enqueue (batches of 1000)': rate,
  }, true);
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
  console.log(`\n${table(figures)}\n`);
  console.error(`bench: ${((Date.now() - started) / 1_000).toFixed(0)} s, load average at the end ${loadavg()[0]!.toFixed(1)}`);
} finally {
  await cleanUp();
}
