import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { runBeat } from '../../src/beat/run-beat.ts';
import { loadEnv } from '../../src/config/env.ts';
import { createLogger } from '../../src/core/logger.ts';
import { startMetricsRecorder } from '../../src/worker/metrics-recorder.ts';
import { testRedisUrl, useTestHub } from '../helpers/test-hub.ts';
import { useDashboard } from './dashboard-harness.ts';

/** Prometheus's own linter, from Debian's `prometheus` package (.ci/run installs it). */
const PROMTOOL = process.env.PROMTOOL_PATH ?? 'promtool';

const hub = useTestHub({ worker: false });
// Process metrics on, as the dashboard serves them in production: they are what promtool flagged.
const dash = useDashboard(() => hub.prefix, { processMetrics: true });

describe('/metrics under promtool check metrics', () => {
  it('passes with no warning at all, process metrics and task histograms included', async () => {
    const version = spawnSync(PROMTOOL, ['--version'], { encoding: 'utf8' });
    if (version.error || version.status !== 0) {
      throw new Error(`${PROMTOOL} is missing: apt-get install -y --no-install-recommends prometheus (or set PROMTOOL_PATH)`);
    }
    // Real samples in every task family, a name outside the catalog included.
    const recorder = startMetricsRecorder({ redisUrl: testRedisUrl(), prefix: hub.prefix, log: createLogger({ name: 'worker', level: 'silent' }), flushEveryMs: 60_000 });
    recorder.record({ task: 'order.generateInvoice', queue: 'order', ok: true, durationMs: 70, waitMs: 12 });
    recorder.record({ task: 'cart.recalculateTotals', queue: 'cart', ok: false, durationMs: 1_500, failure: 'timeout' });
    recorder.record({ task: 'order.madeUp', queue: 'order', ok: false, durationMs: 5, failure: 'permanent' });
    // Every operator family with samples: a schedule entry with a run, a job waiting.
    const env = loadEnv({ NODE_ENV: 'test', REDIS_URL: testRedisUrl(), HUB_PREFIX: hub.prefix });
    await runBeat(env, createLogger({ name: 'beat', level: 'silent' }), { schedule: [{ id: 'nightly', task: 'product.reindex', cron: '0 3 * * *' }], once: true, print: () => {} });
    recorder.record({ task: 'product.reindex', queue: 'product', ok: true, durationMs: 5, schedule: { id: 'nightly', startedAt: Date.now(), final: true } });
    recorder.record({ task: 'cart.sendAbandonedCartReminder', queue: 'cart', ok: false, durationMs: 0, expired: true });
    await recorder.stop();
    await hub.producer.enqueue('order.generateInvoice', { orderId: '3f2b8c4e-9a1d-4e5f-8b6a-7c0d1e2f3a4b' });

    const res = await dash.get('/metrics', 'viewer');
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).toMatch(/^nodejs_active_handles\{/m);
    expect(text).toMatch(/^taskhub_task_duration_seconds_bucket\{/m);
    for (const family of ['taskhub_task_queue_wait_seconds_bucket', 'taskhub_queue_oldest_waiting_seconds', 'taskhub_schedule_next_run_timestamp_seconds', 'taskhub_schedule_last_run_timestamp_seconds', 'taskhub_schedule_last_run_outcome', 'taskhub_redis_memory_used_bytes', 'taskhub_redis_memory_max_bytes']) {
      expect(text, family).toMatch(new RegExp(`^${family}(\\{| )`, 'm'));
    }
    expect(text).toMatch(/^taskhub_task_failed_total\{task="cart\.recalculateTotals",queue="cart",class="timeout"\} 1$/m);
    expect(text).toMatch(/^taskhub_task_failed_total\{task="cart\.sendAbandonedCartReminder",queue="cart",class="expired"\} 1$/m);

    const check = spawnSync(PROMTOOL, ['check', 'metrics'], { input: text, encoding: 'utf8' });
    expect({ status: check.status, output: `${check.stdout}${check.stderr}` }).toEqual({ status: 0, output: '' });
  });
});
