/**
 * Flow control's bench rows (issue 15): what a limit costs a call when it never has to wait
 * (a limited service at a limit far above the rate, against the same service unlimited: calls/s
 * and Redis commands per job), and how much of a 20/s limit three workers use.
 */
import { createServer } from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { median } from './report.ts';
import { deletePrefix, fill, jobsFor, queueOn } from './redis-util.ts';
import type { Env } from './scenarios.ts';
import { spawnWorker } from './spawn-worker.ts';
import { bench } from './tasks.ts';
import type { WorkerConfig } from './worker-process.ts';

const config = (env: Env, prefix: string, name: string, expect: number, stubUrl: string, pricingLimit?: { max: number; perMs: number }): WorkerConfig => ({
  side: 'hub',
  redisUrl: env.redisUrl,
  prefix,
  concurrency: 20,
  expect,
  stubUrl,
  logFile: join(env.dir, `worker-flow-${name}.log`),
  flow: { pricingLimit },
});

/** A queue of `n` pricing calls drained by one worker (concurrency 20), limited or not. */
const callRate = async (env: Env, limited: boolean, n: number) => {
  const prefix = env.nextPrefix('hub');
  const queue = queueOn(env.redis, prefix);
  try {
    await fill(queue, jobsFor('hub', bench.benchPricing, n));
    const worker = await spawnWorker(config(env, prefix, limited ? 'limited' : 'unlimited', n, env.stubUrl, limited ? { max: 1_000_000, perMs: 1_000 } : undefined));
    const done = await worker.done;
    await worker.stop();
    return { rate: (done.count / done.ms) * 1_000, commandsPerJob: done.redisCommands / done.count };
  } finally {
    await queue.close();
    await deletePrefix(env.redis, prefix);
  }
};

/** Arrival times at a service, as the service sees them. */
const recordingStub = async () => {
  const at: number[] = [];
  const server = createServer((req, res) => {
    at.push(performance.now());
    req.resume();
    req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}'));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    at,
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => (server.closeAllConnections(), new Promise<void>((r) => server.close(() => r()))),
  };
};

/** Three workers x 20 making `n` calls to a service limited to 20/s: utilisation and the busiest second. */
const utilisation20 = async (env: Env, n: number) => {
  const prefix = env.nextPrefix('hub');
  const queue = queueOn(env.redis, prefix);
  const stub = await recordingStub();
  const limit = { max: 20, perMs: 1_000 };
  try {
    const workers = await Promise.all([0, 1, 2].map((i) => spawnWorker(config(env, prefix, `util-${i}`, 0, stub.url, limit))));
    await fill(queue, jobsFor('hub', bench.benchPricing, n));
    while (stub.at.length < n) await new Promise((r) => setTimeout(r, 100));
    await Promise.all(workers.map((w) => w.stop()));
    const at = [...stub.at].sort((a, b) => a - b);
    let most = 0;
    for (let i = 0, j = 0; i < at.length; i++) {
      while (j < at.length && at[j]! < at[i]! + limit.perMs) j++;
      most = Math.max(most, j - i);
    }
    return { used: ((at.length - 1) / (at.at(-1)! - at[0]!)) * (limit.perMs / limit.max), most };
  } finally {
    await stub.close();
    await queue.close();
    await deletePrefix(env.redis, prefix);
  }
};

const r2 = (x: number) => Math.round(x * 100) / 100;

/** Runs the rows `rounds` times (limited and unlimited alternating first) and prints them with their medians. */
export const flowRows = async (env: Env, rounds: number, sizes: { calls: number; utilisation: number }): Promise<string> => {
  const runs = { limited: [] as { rate: number; commandsPerJob: number }[], unlimited: [] as { rate: number; commandsPerJob: number }[], util: [] as { used: number; most: number }[] };
  for (let r = 0; r < rounds; r++) {
    for (const limited of r % 2 ? [false, true] : [true, false]) runs[limited ? 'limited' : 'unlimited'].push(await callRate(env, limited, sizes.calls));
    runs.util.push(await utilisation20(env, sizes.utilisation));
  }
  const m = (xs: number[]) => median(xs);
  const rows = {
    limitedRate: m(runs.limited.map((x) => x.rate)),
    unlimitedRate: m(runs.unlimited.map((x) => x.rate)),
    limitedCommands: m(runs.limited.map((x) => x.commandsPerJob)),
    unlimitedCommands: m(runs.unlimited.map((x) => x.commandsPerJob)),
    used: m(runs.util.map((x) => x.used)),
    most: Math.max(...runs.util.map((x) => x.most)),
  };
  console.log(JSON.stringify({ figure: 'flow', ...Object.fromEntries(Object.entries(rows).map(([k, v]) => [k, r2(v)])), runs }));
  return [
    '| flow figure | limited | unlimited / target | ratio |',
    '|---|---:|---:|---:|',
    `| HTTP call to a service limited at 1,000,000/s vs unlimited, concurrency 20 (calls/s) | ${Math.round(rows.limitedRate)} | ${Math.round(rows.unlimitedRate)} | ${(rows.limitedRate / rows.unlimitedRate).toFixed(2)} |`,
    `| Redis commands per job, same | ${r2(rows.limitedCommands)} | ${r2(rows.unlimitedCommands)} | +${r2(rows.limitedCommands - rows.unlimitedCommands)} |`,
    `| utilisation of a 20/s limit, 3 workers x 20, ${sizes.utilisation} calls | ${r2(rows.used)} | 0.9 | ${(rows.used / 0.9).toFixed(2)} |`,
    `| most calls the service saw in any 1 s (limit 20) | ${rows.most} | 20 | |`,
  ].join('\n');
};
