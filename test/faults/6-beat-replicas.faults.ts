import { expect, it } from 'vitest';
import type { RoleProcess } from '../helpers/spawn-role.ts';
import { account, report, sleep, until, useFaultWorld } from './harness.ts';

const world = useFaultWorld();
const RUN_MS = 16_000;

it('6. three beat replicas, one SIGKILLed and restarted every 2 s: exactly one job per tick', async () => {
  await world.startRedis();
  const prefix = 'f6';
  const worker = world.spawn('src/worker/main.ts', prefix, { HUB_QUEUES: 'cart', CART_SERVICE_URL: world.service.url });
  await worker.waitForLine(/"worker ready"/);
  // test/beat's fixture: one entry, cart.purgeExpiredCarts every second.
  const beatEnv = { BEAT_SCHEDULE: 'test/beat/fixtures/tick-schedule.ts', BEAT_RECONCILE_MS: '200' };
  const beat = () => world.spawn('src/beat/main.ts', prefix, beatEnv);
  const replicas: RoleProcess[] = [beat(), beat(), beat()];
  await Promise.all(replicas.map((r) => r.waitForLine(/"beat running"/)));

  const started = Date.now();
  let kills = 0;
  while (Date.now() - started < RUN_MS) {
    await sleep(2_000);
    const victim = kills % replicas.length;
    replicas[victim]!.child.kill('SIGKILL');
    await replicas[victim]!.exited;
    kills++;
    replicas[victim] = beat();
  }
  await Promise.all(replicas.map((r) => r.waitForLine(/"beat running"/)));
  for (const r of replicas) r.child.kill('SIGTERM');
  await Promise.all(replicas.map((r) => r.exited));

  // Scheduler jobs are `repeat:<scheduler>:<tick ms>`; the service saw each job's idempotency key.
  const tickOf = (key: string) => Number(/repeat:tick:(\d+)$/.exec(key)?.[1]);
  const settle = () => [...world.service.starts.keys()].filter((k) => tickOf(k)).length;
  const seen = settle();
  await until(() => world.service.open.size === 0, 5_000);
  const runs = [...world.service.starts].filter(([k]) => tickOf(k));
  const ticks = runs.map(([k]) => tickOf(k)).sort((a, b) => a - b);
  const gaps = ticks.slice(1).map((t, i) => t - ticks[i]!);
  const perTick = new Map<number, number>();
  for (const t of ticks) perTick.set(t, (perTick.get(t) ?? 0) + 1);
  const missing = gaps.reduce((n, g) => n + Math.max(0, g / 1_000 - 1), 0);
  // Each tick's job, as the worker's HTTP call named it (`hub-cart-<job id>`), must have finished.
  const jobIds = new Set(runs.map(([k]) => k.replace(/^hub-cart-/, '')));
  const result = await account({ redis: world.client(), prefix, queue: 'cart', accepted: jobIds, processes: [worker], service: world.service, settleMs: 10_000 });
  const { ok } = report({
    name: '6 beat: 3 replicas, one SIGKILLed + restarted every 2 s',
    ...result,
    lost: [...result.lost, ...Array.from({ length: missing }, (_, i) => `missed tick ${i}`)],
    duplicates: runs.filter(([, n]) => n > 1).map(([k]) => k),
    inFlightAtFault: 0,
    note: `${kills} kills over ${(RUN_MS / 1_000).toFixed(0)} s; ${ticks.length} ticks ran, ${[...perTick.values()].filter((n) => n > 1).length} ticks with two jobs, ${missing} ticks missed; gaps ${[...new Set(gaps)].join('/')} ms`,
  });
  expect(seen).toBeGreaterThan(RUN_MS / 1_000 - 2);
  expect(ok).toBe(true);
  expect(new Set(gaps)).toEqual(new Set([1_000]));
});
