import { afterEach, describe, expect, it } from 'vitest';
import { runBeat, type BeatHandle } from '../../src/beat/run-beat.ts';
import { schedule as tickSchedule } from './fixtures/tick-schedule.ts';
import { useTestHub, testRedisUrl } from '../helpers/test-hub.ts';
import { TICK_SCHEDULE, beatEnv, captureLog, gapsOf, spawnBeat, tickRecorder } from './helpers.ts';

const hub = useTestHub({ worker: false });
const beats: BeatHandle[] = [];
const children: ReturnType<typeof spawnBeat>[] = [];

afterEach(async () => {
  await Promise.all(beats.splice(0).map((b) => b.stop()));
  for (const c of children.splice(0)) if (c.child.exitCode === null && c.child.signalCode === null) c.child.kill('SIGKILL');
  await Promise.all(children.map((c) => c.exited));
});

describe('beat: exactly one job per tick', () => {
  it('two beat replicas and one worker, everyMs 1000 for ~10 s: every tick once, no gaps', async () => {
    const rec = tickRecorder();
    await hub.startWorker(rec.registry);
    const env = beatEnv(hub.prefix);
    const [a, b] = [captureLog(), captureLog()];
    // Both start together, each with its own Redis connection, reconciling every 200 ms.
    beats.push(
      ...(await Promise.all([
        runBeat(env, a.log, { schedule: tickSchedule, reconcileMs: 200, print: () => {} }),
        runBeat(env, b.log, { schedule: tickSchedule, reconcileMs: 200, print: () => {} }),
      ])),
    );
    await rec.waitForRuns(10);
    await Promise.all(beats.splice(0).map((beat) => beat.stop()));

    const ticks = rec.ticks();
    expect(new Set(rec.runs.map((r) => r.jobId)).size).toBe(rec.runs.length);
    expect(gapsOf(ticks).every((g) => g === 1_000)).toBe(true);
    expect(rec.runs.every((r) => r.schedule === 'tick')).toBe(true);
    // One replica created the scheduler; after that neither changed anything.
    expect([...a.lines.matching('scheduler created'), ...b.lines.matching('scheduler created')]).toHaveLength(1);
    expect([...a.lines.all, ...b.lines.all].filter((l) => /scheduler (updated|restored|removed)/.test(l))).toEqual([]);
  });

  it('SIGKILL and restart beat processes while the worker runs: ticks go on, no duplicates', async () => {
    const rec = tickRecorder();
    await hub.startWorker(rec.registry);
    const env = { REDIS_URL: testRedisUrl(), HUB_PREFIX: hub.prefix, BEAT_SCHEDULE: TICK_SCHEDULE, BEAT_RECONCILE_MS: '200' };
    const first = spawnBeat(env);
    const second = spawnBeat(env);
    children.push(first, second);
    await Promise.all([first.lines.waitFor('beat running'), second.lines.waitFor('beat running')]);
    await rec.waitForRuns(2);

    first.child.kill('SIGKILL');
    second.child.kill('SIGKILL');
    await Promise.all([first.exited, second.exited]);
    const whileDown = rec.runs.length;
    await rec.waitForRuns(whileDown + 2); // nobody runs beat: the schedulers in Redis keep firing

    const restarted = spawnBeat(env);
    children.push(restarted);
    await restarted.lines.waitFor('beat running');
    await rec.waitForRuns(rec.runs.length + 2);
    restarted.child.kill('SIGTERM');
    expect(await restarted.exited).toEqual({ code: 0, signal: null });

    expect(new Set(rec.runs.map((r) => r.jobId)).size).toBe(rec.runs.length);
    expect(gapsOf(rec.ticks()).every((g) => g === 1_000)).toBe(true);
    expect(restarted.lines.matching('scheduler created')).toEqual([]);
    expect(restarted.lines.all.filter((l) => /scheduler (updated|restored)/.test(l))).toEqual([]);
  });

  it('misfire policy: ticks missed while no worker runs coalesce into one late run, then the grid resumes', async () => {
    const rec = tickRecorder();
    await hub.startWorker(rec.registry);
    const { log } = captureLog();
    await runBeat(beatEnv(hub.prefix), log, { schedule: tickSchedule, once: true, print: () => {} });
    await rec.waitForRuns(2);
    await hub.stopWorker();
    const stoppedAt = Date.now();
    await new Promise((r) => setTimeout(r, 3_500)); // no event for "time passes": ~3 ticks missed
    await hub.startWorker(rec.registry);
    await rec.waitForRuns(rec.runs.length + 3);

    expect(new Set(rec.runs.map((r) => r.jobId)).size).toBe(rec.runs.length);
    const late = rec.runs.filter((r) => r.at - Number(r.jobId.split(':').pop()) > 1_000);
    expect(late).toHaveLength(1); // the one pending tick, run late; the others were never created
    expect(late[0]!.at - stoppedAt).toBeGreaterThanOrEqual(3_500);
    const gaps = gapsOf(rec.ticks());
    expect(gaps.filter((g) => g !== 1_000)).toHaveLength(1); // the jump over the missed ticks
    expect(Math.max(...gaps)).toBeGreaterThanOrEqual(3_000);
  });
});
