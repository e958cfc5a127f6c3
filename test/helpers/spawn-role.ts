import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { Lines } from './lines.ts';

export interface RoleProcess {
  child: ChildProcess;
  /** Every stdout/stderr line so far. */
  lines: string[];
  /** Resolves with the first line (seen or future) matching; fails at once if the process exits first. */
  waitForLine(pattern: RegExp, timeoutMs?: number): Promise<string>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Runs a hub entry point (`src/worker/main.ts`, ...) as a real process, as `npm run` would. */
export const spawnRole = (entry: string, env: Record<string, string>): RoleProcess => {
  const child = spawn(process.execPath, ['--import', 'tsx', entry], {
    env: { ...process.env, NODE_ENV: 'test', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output = new Lines();
  for (const stream of [child.stdout!, child.stderr!]) createInterface({ input: stream }).on('line', (line) => output.add(line));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  void exited.then(() => output.end('the process exited'));
  return { child, lines: output.all, exited, waitForLine: (pattern, timeoutMs) => output.waitFor(pattern, timeoutMs) };
};
