import { spawn } from 'node:child_process';
import { availableParallelism, loadavg } from 'node:os';
import { expect, it } from 'vitest';
import { createControl } from '../../src/control/control.ts';
import { FailedFilter, parseInput } from '../../src/control/failed-filter.ts';
import { replay, type ReplayResult } from '../../src/control/replay.ts';
import { createRedis } from '../../src/core/redis.ts';
import { createProducer } from '../../src/producer/index.ts';
import { account, failAllWaiting, report, useFaultWorld } from './harness.ts';

const world = useFaultWorld();
const JOBS = Number(process.env.FAULT_REPLAY_JOBS ?? 50_000);

/**
 * `redis-cli --latency` (its own process, a PING every 10 ms), one-second samples back to back
 * while `work` runs: the longest any PING waited, i.e. the longest Redis was blocked.
 */
const latencyDuring = async <T>(port: number, work: () => Promise<T>): Promise<{ result: T; maxMs: number; samples: number }> => {
  let running = true;
  let maxMs = 0;
  let samples = 0;
  const sampler = (async () => {
    while (running) {
      const run = spawn('redis-cli', ['-p', String(port), '--latency', '--csv', '-i', '1'], { stdio: ['ignore', 'pipe', 'ignore'] });
      let out = '';
      run.stdout.on('data', (d: Buffer) => (out += d.toString()));
      await new Promise((r) => run.once('exit', r));
      // min,max,avg,samples
      const [, max, , n] = out.trim().split(',').map(Number);
      if (Number.isFinite(max)) maxMs = Math.max(maxMs, max!);
      if (Number.isFinite(n)) samples += n!;
    }
  })();
  try {
    return { result: await work(), maxMs, samples };
  } finally {
    running = false;
    await sampler;
  }
};

it(`11. replay ${JOBS} failed jobs while two workers run, two replays racing: each failure retried once, Redis never blocked long`, { timeout: 400_000 }, async () => {
  const redisServer = await world.startRedis();
  const prefix = 'f11';
  const admin = world.client();
  await admin.config('SET', 'slowlog-log-slower-than', '10000');
  // 50,000 jobs that failed for good, as the worker leaves them, before any worker runs.
  const producer = createProducer({ redisUrl: redisServer.url, prefix, service: 'fault-11', timeoutMs: 30_000 });
  const ids = new Set<string>();
  for (let at = 0; at < JOBS; at += 1_000) {
    const batch = Array.from({ length: Math.min(1_000, JOBS - at) }, () => ({ task: 'order.cancelUnpaidOrders' as const, payload: { olderThanMinutes: 60 } }));
    for (const j of await producer.enqueueMany(batch)) ids.add(j.id);
  }
  await producer.close();
  expect(await failAllWaiting(admin, prefix, 'order')).toBe(JOBS);
  const workers = [0, 1].map(() => world.spawn('src/worker/main.ts', prefix, { HUB_QUEUES: 'order' }));
  await Promise.all(workers.map((w) => w.waitForLine(/"worker ready"/)));
  await admin.slowlog('RESET');

  const connections = [0, 1].map(() => createRedis(redisServer.url, 'producer'));
  await Promise.all(connections.map((c) => new Promise((r) => c.once('ready', r))));
  const controls = connections.map((connection) => createControl({ connection, prefix }));
  const filter = parseInput(FailedFilter, { task: 'order.cancelUnpaidOrders', class: 'permanent', status: 404 }, 'filter');
  const started = performance.now();
  const { result, maxMs, samples } = await latencyDuring(redisServer.port, () =>
    Promise.all(controls.map((ctl, i) => replay(ctl, filter, { who: `fault:${i}`, sampleSize: 0 }))),
  );
  const replayMs = performance.now() - started;
  const slow = (await admin.slowlog('GET', 128)) as [number, number, number, string[]][];
  const slowestMs = slow.reduce((m, e) => Math.max(m, e[2] / 1_000), 0);
  // On a machine busier than its cores, Redis itself waits for a CPU: a 20 ms HGET says nothing about the replay.
  const load = loadavg()[0]!;
  const quiet = load < availableParallelism();
  if (process.env.FAULT_DEBUG) console.log(slow.map((e) => `${e[2] / 1_000} ms ${e[3].slice(0, 3).join(' ').slice(0, 120)}`).join('\n'));

  const outcome = await account({ redis: admin, prefix, queue: 'order', accepted: ids, processes: workers, service: world.service, settleMs: 180_000 });
  // Each job ran once: its replayed run.
  const once = [...ids].filter((id) => world.service.starts.get(id) === 1).length;
  const more = [...ids].filter((id) => (world.service.starts.get(id) ?? 0) > 1);
  await Promise.all(controls.map((c) => c.close()));
  connections.forEach((c) => c.disconnect());
  const [a, b] = result as ReplayResult[];
  const { ok } = report({
    name: `11 replay: ${JOBS} failed jobs, 2 replays racing, 2 workers running`,
    ...outcome,
    duplicates: more,
    inFlightAtFault: 0,
    note: `replays retried ${a!.retried} + ${b!.retried} = ${a!.retried + b!.retried} (matched ${a!.matched}/${b!.matched}) in ${(replayMs / 1_000).toFixed(1)} s (${Math.round(JOBS / (replayMs / 1_000))} jobs/s); ${once} jobs ran exactly once after the replay; redis-cli --latency max ${maxMs} ms over ${samples} pings; SLOWLOG max ${slowestMs.toFixed(1)} ms (${slow.length} commands over 10 ms); load average ${load.toFixed(1)} on ${availableParallelism()} cores${quiet ? '' : ' (too busy to hold Redis to 50 ms: not asserted)'}`,
  });
  expect(ok).toBe(true);
  expect(a!.retried + b!.retried).toBe(JOBS);
  expect(outcome.completed).toBe(JOBS);
  expect(once).toBe(JOBS);
  if (quiet) expect(slowestMs).toBeLessThan(50);
});
