import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { newPrefix, testRedisUrl } from './helpers/test-hub.ts';
import { Lines } from './helpers/lines.ts';

/** A process's parent pid and state letter, or undefined once it is gone (a zombie counts as gone: it has exited). */
const stat = (pid: number): { ppid: number; state: string } | undefined => {
  try {
    // pid (comm) state ppid ...: comm may hold spaces, so read after its closing parenthesis.
    const after = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return after[0] === 'Z' ? undefined : { state: after[0]!, ppid: Number(after[1]) };
  } catch {
    return undefined;
  }
};

const childrenOf = (parent: number): number[] =>
  readdirSync('/proc')
    .map(Number)
    .filter((pid) => pid && stat(pid)?.ppid === parent);

const started: number[] = [];
afterEach(() => {
  for (const pid of started.splice(0)) if (stat(pid)) process.kill(pid, 'SIGKILL');
});

/**
 * Starts the stand-in worker, waits until its `n` children exist (and, with `spinDir`, until each
 * keeps its main thread busy), waits `afterMs` more, SIGKILLs it.
 */
const killWhileStarting = async (n: number, afterMs: number, spinDir?: string): Promise<number[]> => {
  const parent = spawn(process.execPath, ['--import', 'tsx', 'test/fixtures/fork-children.ts', String(n), ...(spinDir ? ['spin'] : [])], {
    env: { ...process.env, NODE_ENV: 'test', REDIS_URL: testRedisUrl(), HUB_PREFIX: newPrefix(), SPIN_DIR: spinDir ?? '' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  started.push(parent.pid!);
  const out = new Lines();
  parent.stdout!.on('data', (chunk: Buffer) => out.push(chunk.toString()));
  await out.waitFor('forking');
  let children = childrenOf(parent.pid!);
  while (children.length < n) {
    await sleep(10);
    children = childrenOf(parent.pid!);
  }
  started.push(...children);
  while (spinDir && readdirSync(spinDir).length < n) await sleep(10);
  await sleep(afterMs);
  const exited = new Promise((r) => parent.once('exit', r));
  parent.kill('SIGKILL');
  await exited;
  return children;
};

const describeProcess = (pid: number) => `${pid} ${stat(pid)?.state}: ${readFileSync(`/proc/${pid}/cmdline`, 'latin1').replaceAll('\0', ' ')}`;

/** The pids still alive `withinMs` after now, polled every 50 ms. */
const survivorsAfter = async (pids: number[], withinMs: number): Promise<number[]> => {
  const deadline = Date.now() + withinMs;
  let alive = pids.filter((p) => stat(p));
  while (alive.length && Date.now() < deadline) {
    await sleep(50);
    alive = alive.filter((p) => stat(p));
  }
  return alive;
};

describe('crash-isolation children of a SIGKILLed worker', () => {
  it.each([0, 400, 900])('exit on their own within 2 s when the worker dies %i ms into their start', async (afterMs) => {
    const children = await killWhileStarting(3, afterMs);
    const alive = await survivorsAfter(children, 2_000);
    expect(alive.map(describeProcess)).toEqual([]);
  });

  it('exit within 2 s when the worker dies while their job keeps the main thread busy (no event loop to see the disconnect)', async () => {
    const spinDir = mkdtempSync(join(tmpdir(), 'task-hub-spin-'));
    try {
      const children = await killWhileStarting(2, 0, spinDir);
      expect(readdirSync(spinDir).map(Number).sort()).toEqual([...children].sort());
      expect(children.map((pid) => stat(pid)?.state)).toEqual(['R', 'R']);
      const alive = await survivorsAfter(children, 2_000);
      expect(alive.map(describeProcess)).toEqual([]);
    } finally {
      rmSync(spinDir, { recursive: true, force: true });
    }
  });
});
