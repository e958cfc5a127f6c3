import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { FromWorker, WorkerConfig } from './worker-process.ts';

const entry = fileURLToPath(new URL('./worker-process.ts', import.meta.url));

export interface BenchWorker {
  child: ChildProcess;
  /** Resolves with the drain figures once `expect` jobs completed. */
  done: Promise<Extract<FromWorker, { type: 'done' }>>;
  stop(): Promise<void>;
}

/** Forks a worker process (tsx loader; extra node flags from BENCH_NODE_FLAGS, e.g. --cpu-prof) and waits until it is ready. */
export const spawnWorker = async (config: WorkerConfig): Promise<BenchWorker> => {
  const flags = (process.env.BENCH_NODE_FLAGS ?? '').split(' ').filter(Boolean);
  const child = fork(entry, [], {
    execArgv: ['--import', 'tsx', ...flags],
    env: { ...process.env, BENCH_WORKER: JSON.stringify(config) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const message = <T extends FromWorker['type']>(type: T) =>
    new Promise<Extract<FromWorker, { type: T }>>((resolve, reject) => {
      const onMessage = (m: FromWorker) => m.type === type && (child.off('message', onMessage), resolve(m as Extract<FromWorker, { type: T }>));
      child.on('message', onMessage);
      void exited.then((code) => reject(new Error(`bench ${config.side} worker exited (${code}) before "${type}"`)));
    });
  const done = message('done');
  done.catch(() => {});
  await message('ready');
  return {
    child,
    done,
    async stop() {
      if (child.exitCode === null) child.send({ type: 'stop' });
      await exited;
    },
  };
};
