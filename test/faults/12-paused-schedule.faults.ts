import { once } from 'node:events';
import { expect, it } from 'vitest';
import { createControl } from '../../src/control/control.ts';
import { pauseSchedule, resumeSchedule } from '../../src/control/schedule-actions.ts';
import { createRedis } from '../../src/core/redis.ts';
import { report, sleep, until, useFaultWorld } from './harness.ts';

const world = useFaultWorld();
const PAUSED_MS = 8_000;
const TICK_SCHEDULE = 'test/beat/fixtures/tick-schedule.ts';

it('12. a paused schedule entry: beat SIGKILLed and restarted twice, reconciling every 200 ms: no run while paused; resume restores it', async () => {
  const redisServer = await world.startRedis();
  const prefix = 'f12';
  const worker = world.spawn('src/worker/main.ts', prefix, { HUB_QUEUES: 'cart', CART_SERVICE_URL: world.service.url });
  await worker.waitForLine(/"worker ready"/);
  const beatEnv = { BEAT_SCHEDULE: TICK_SCHEDULE, BEAT_RECONCILE_MS: '200' };
  let beat = world.spawn('src/beat/main.ts', prefix, beatEnv);
  await beat.waitForLine(/"beat running"/);
  // The fixture's entry ticks every second: wait for one run, so the pipe is known to work.
  const ticks = () => [...world.service.starts.keys()].filter((k) => /repeat:tick:/.test(k)).length;
  while (ticks() < 1) await sleep(100);

  const connection = createRedis(redisServer.url, 'producer');
  await once(connection, 'ready');
  const control = createControl({ connection, prefix, schedulePath: TICK_SCHEDULE, beatLockMs: 15_000 });
  await pauseSchedule(control, 'tick', 'fault:12');
  // A run the worker had already taken when the pause landed may still finish: count from after it.
  const idle = async () => {
    const c = await control.queue('cart').getJobCounts('wait', 'active');
    return c.wait! + c.active! === 0 && world.service.open.size === 0;
  };
  expect(await until(idle, 10_000)).toBe(true);
  const atPause = ticks();
  const pausedAt = Date.now();
  let kills = 0;
  while (Date.now() - pausedAt < PAUSED_MS) {
    await sleep(PAUSED_MS / 3);
    beat.child.kill('SIGKILL');
    await beat.exited;
    kills++;
    beat = world.spawn('src/beat/main.ts', prefix, beatEnv);
    await beat.waitForLine(/"beat running"/);
  }
  const whilePaused = ticks() - atPause;
  const scheduler = await control.queue('cart').getJobScheduler('tick');

  await resumeSchedule(control, 'tick', 'fault:12');
  const resumedAt = Date.now();
  while (ticks() - atPause < 2 && Date.now() - resumedAt < 10_000) await sleep(100);
  const afterResume = ticks() - atPause - whilePaused;
  beat.child.kill('SIGTERM');
  await beat.exited;
  await control.close();
  connection.disconnect();

  const { ok } = report({
    name: '12 schedule paused, beat SIGKILLed + restarted while paused',
    accepted: 0,
    completed: 0,
    failed: new Map(),
    lost: whilePaused ? [`${whilePaused} run(s) while paused`] : [],
    duplicates: [],
    inFlightAtFault: 0,
    note: `${kills} beat kills over ${(PAUSED_MS / 1_000).toFixed(0)} s paused, reconciling every 200 ms: ${whilePaused} runs while paused (scheduler ${scheduler ? 'present' : 'absent'}); ${afterResume} run(s) within ${((Date.now() - resumedAt) / 1_000).toFixed(1)} s of resume`,
  });
  expect(ok).toBe(true);
  expect(scheduler).toBeUndefined();
  expect(afterResume).toBeGreaterThanOrEqual(1);
});
