import { parseArgs } from 'node:util';
import { loadEnv } from '../config/env.ts';
import { ConfigError } from '../core/errors.ts';
import { createLogger } from '../core/logger.ts';
import { runMain } from '../core/run-main.ts';
import { startTracing } from '../tracing/start-tracing.ts';
import { runBeat } from './run-beat.ts';

const flags = () => {
  try {
    const { values } = parseArgs({ options: { once: { type: 'boolean' }, 'dry-run': { type: 'boolean' } } });
    return { once: values.once ?? false, dryRun: values['dry-run'] ?? false };
  } catch (err) {
    throw new ConfigError(`${(err as Error).message}\nusage: npm run beat [-- --once | --dry-run]`);
  }
};

runMain('beat', async () => {
  const { once, dryRun } = flags();
  const env = loadEnv();
  const log = createLogger({ name: 'beat', level: env.LOG_LEVEL, format: env.LOG_FORMAT });
  const tracing = startTracing(env, 'task-hub-beat', log);
  const beat = await runBeat(env, log, { once, dryRun });
  // --once / --dry-run: everything is closed already, so the process ends with exit code 0
  // once the spans of the changes it made are out (the exporter's timer does not hold it).
  if (once || dryRun) await tracing?.shutdown();
  return {
    async stop() {
      await beat.stop();
      await tracing?.shutdown();
      log.flush();
    },
  };
});
