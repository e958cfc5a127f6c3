/**
 * Diagnosis only (not part of npm run bench): runs the shipped drain for the given runners,
 * alternating, and prints worker CPU per job and jobs/s. Usage:
 *   npx tsx bench/drive-shipped.ts hub-tsx,raw 3 [jobs]
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { deletePrefix } from './redis-util.ts';
import { shippedDrain, type Runner } from './shipped.ts';
import { startStub } from './stub.ts';
import type { Env } from './scenarios.ts';

const runners = (process.argv[2] ?? 'hub-tsx,raw').split(',') as Runner[];
const rounds = Number(process.argv[3] ?? 3);
const jobs = Number(process.argv[4] ?? 4_000);
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const redis = new Redis(redisUrl);
const stub = await startStub();
const base = `drive${randomBytes(3).toString('hex')}`;
let n = 0;
const env: Env = { redisUrl, redis, stubUrl: stub.url, dir: '/tmp', nextPrefix: (side) => `${base}-${side}${++n}` };
const out: Record<string, { cpu: number[]; rate: number[] }> = {};
for (let r = 0; r < rounds; r++) {
  for (const runner of r % 2 ? [...runners].reverse() : runners) {
    const d = await shippedDrain(env, runner, jobs);
    (out[runner] ??= { cpu: [], rate: [] }).cpu.push(Math.round(d.cpuUsPerJob));
    out[runner].rate.push(Math.round(d.rate));
    console.log(runner, 'cpu µs/job', Math.round(d.cpuUsPerJob), 'jobs/s', Math.round(d.rate), 'redis commands/job', d.commandsPerJob.toFixed(2), JSON.stringify(d.commands));
  }
}
const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
for (const [k, v] of Object.entries(out)) console.log(`${k}: cpu median ${med(v.cpu)} µs/job, rate median ${med(v.rate)} jobs/s`);
await deletePrefix(redis, base);
redis.disconnect();
await stub.close();
