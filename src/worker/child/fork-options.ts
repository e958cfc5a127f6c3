import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { ChildPool } from 'bullmq';

export interface ForkOptions {
  env: NodeJS.ProcessEnv;
  execArgv: string[];
}

const require = createRequire(import.meta.url);
/** BullMQ's child entry point (what `new Worker(queue, file)` forks). */
export const childMainFile = require.resolve('bullmq/dist/cjs/classes/main.js');

// Plain JS under tsx and in dist alike (tsconfig.build.json's allowJs copies it).
const watchdog = fileURLToPath(new URL('./watchdog.cjs', import.meta.url));

/** How the worker forks its child processes (crash suspects, sandboxed queues): its node flags plus the watchdog. */
export const childForkOptions = (env: NodeJS.ProcessEnv): ForkOptions => ({
  env,
  execArgv: [...process.execArgv, `--require=${watchdog}`],
});

export const childPool = (forkOptions: ForkOptions): ChildPool => new ChildPool({ mainFile: childMainFile, workerForkOptions: forkOptions });
