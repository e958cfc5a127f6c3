import { join } from 'node:path';
import { runBeat } from '../beat/run-beat.ts';
import { loadEnv } from '../config/env.ts';
import { ConfigError } from '../core/errors.ts';
import { createLogger } from '../core/logger.ts';
import { runDashboard } from '../dashboard/run-dashboard.ts';
import { runMain } from '../core/run-main.ts';
import { startTracing } from '../tracing/start-tracing.ts';
import { runWorker } from '../worker/run-worker.ts';
import { redisTargetOf } from '../config/redis-target.ts';
import { clusterRedis, localRedis } from './local-redis.ts';

/**
 * `npm start`: the whole hub in one process for local use: worker, beat and dashboard on one
 * Redis (a private one if none answers at the default URL). Ctrl-C stops all of it, Redis last.
 */
const say = (line: string) => process.stderr.write(`hub: ${line}\n`);

runMain('hub', async () => {
  const explicit = Boolean(process.env.REDIS_URL?.trim());
  const env = loadEnv();
  const log = createLogger({ name: 'hub', level: env.LOG_LEVEL, format: env.LOG_FORMAT });
  const tracing = startTracing(env, 'task-hub', log);
  // runMain handles signals once everything runs; a Ctrl-C during start-up must not orphan Redis.
  let interrupted: NodeJS.Signals | undefined;
  const early = (signal: NodeJS.Signals) => {
    interrupted ??= signal;
    say(`${signal}: stopping as soon as start-up finishes`);
  };
  process.on('SIGINT', early).on('SIGTERM', early);
  const stops: (() => Promise<void>)[] = [];
  const stopAll = async () => {
    // Reverse start order: no new work in, running jobs drain, Redis goes last.
    for (const stop of stops.splice(0).reverse()) await stop();
  };
  try {
    const target = redisTargetOf(env);
    const redis =
      typeof target === 'string'
        ? await localRedis({ url: env.REDIS_URL, explicit, dataDir: join(process.cwd(), '.hub-data', 'redis'), say })
        : await clusterRedis(target, say);
    stops.push(() => redis.stop());
    const worker = await runWorker(env, log.child({ role: 'worker' }));
    stops.push(() => worker.stop());
    const beat = await runBeat(env, log.child({ role: 'beat' }), { print: (text) => process.stderr.write(text) });
    stops.push(() => beat.stop());
    const dashboard = await runDashboard(env, log.child({ role: 'dashboard' })).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'EADDRINUSE') throw err;
      throw new ConfigError(`port ${env.DASHBOARD_PORT} is taken (another npm start or dashboard?): stop it, or set DASHBOARD_PORT`);
    });
    stops.push(() => dashboard.stop());
    const login = env.DASHBOARD_PASSWORD ? `user ${env.DASHBOARD_USER}` : `login ${env.DASHBOARD_USER}/admin; set DASHBOARD_PASSWORD to change it`;
    say(`dashboard on http://127.0.0.1:${dashboard.port} (${login})`);
  } catch (err) {
    await stopAll();
    throw err;
  } finally {
    process.off('SIGINT', early).off('SIGTERM', early);
  }
  if (interrupted) {
    await stopAll();
    say('stopped');
    process.exit(0);
  }
  say(`running: worker on ${env.HUB_QUEUES.join(', ')}; beat; dashboard. Ctrl-C stops everything`);
  return {
    async stop(signal) {
      say(`${signal}: stopping (running jobs get ${env.WORKER_GRACE_MS} ms to finish; Ctrl-C again to quit at once)`);
      await stopAll();
      await tracing?.shutdown();
      say('stopped');
      log.flush();
    },
  };
});
