import { ConfigError } from './errors.ts';

export interface MainHandle {
  stop(signal: NodeJS.Signals): Promise<void>;
}

/**
 * Entry-point plumbing shared by worker, beat and dashboard: a ConfigError prints its message
 * (no stack) and exits 1; SIGTERM/SIGINT stop cleanly once, a second signal exits at once.
 */
export const runMain = (name: string, start: () => Promise<MainHandle>): void => {
  const fail = (err: unknown) => {
    const message = err instanceof ConfigError ? err.message : err instanceof Error ? (err.stack ?? err.message) : String(err);
    process.stderr.write(`${name}: ${message}\n`);
    process.exit(1);
  };
  start().then((handle) => {
    let stopping = false;
    const onSignal = (signal: NodeJS.Signals) => {
      if (stopping) process.exit(130);
      stopping = true;
      handle.stop(signal).then(() => process.exit(0), fail);
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  }, fail);
};
