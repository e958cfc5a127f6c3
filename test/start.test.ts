import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * `npm start` on a machine with redis-server installed and nothing at redis://127.0.0.1:6379.
 * This machine's 6379 may well be taken, so the scenario (test/helpers/start-scenario.ts) runs in
 * a fresh network namespace: there the default URL itself is free, and no variable bends the
 * code under test. It runs in a copy of the repo (sources only, no dist/), so its .hub-data is its
 * own and npm start compiles on its first run, as on a newcomer's machine.
 */
const root = new URL('..', import.meta.url).pathname;

/** `unshare -rn` (user + network namespace) works unprivileged on most Linux; plain -n needs root. */
const namespaceCommand = (): string[] | undefined => {
  for (const flags of [['-rn'], ['-n']]) {
    if (spawnSync('unshare', [...flags, 'ip', 'link', 'set', 'lo', 'up'], { stdio: 'ignore' }).status === 0) return ['unshare', ...flags];
  }
  return undefined;
};
const unshare = namespaceCommand();
const hasRedisServer = spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0;
if (!unshare) process.stderr.write('start.test: cannot create a network namespace (unshare -rn / -n); skipped\n');

describe.skipIf(!unshare || !hasRedisServer)('npm start with no Redis at the default URL', () => {
  let dir = '';
  let report: Record<string, unknown> = {};

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'task-hub-start-'));
    const sources = ['package.json', 'tsconfig.json', 'tsconfig.build.json', 'scripts', 'src', 'tasks', ...readdirSync(root).filter((f) => /^[\w.-]+\.ts$/.test(f) && !f.startsWith('vitest'))];
    for (const s of sources) cpSync(join(root, s), join(dir, s), { recursive: true });
    symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'), 'dir');
    const { REDIS_URL: _unset, ...env } = process.env;
    const run = spawnSync(
      unshare![0]!,
      [...unshare!.slice(1), 'sh', '-c', 'ip link set lo up && exec node --import tsx "$0" "$1"', join(root, 'test/helpers/start-scenario.ts'), dir],
      { cwd: root, env, encoding: 'utf8', timeout: 240_000 },
    );
    const last = run.stdout.trim().split('\n').at(-1) ?? '';
    try {
      report = JSON.parse(last) as Record<string, unknown>;
    } catch {
      throw new Error(`scenario printed no report (exit ${run.status}):\n${run.stdout}\n${run.stderr}`);
    }
  }, 250_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('starts its own redis-server on the default URL, durable (AOF, noeviction), and says so', () => {
    expect(report.error, JSON.stringify(report.output, null, 2)).toBeUndefined();
    expect(report.redisBefore).toBe('absent');
    expect(report.privateRedisLine).toMatch(/no Redis at redis:\/\/127\.0\.0\.1:6379: started a private redis-server/);
    expect(report.privateRedisLine).toMatch(/\.hub-data\/redis/);
    expect(report.dataDirCreated).toBe(true);
    expect(report.redisConfig).toEqual({ appendonly: 'yes', maxmemoryPolicy: 'noeviction' });
  });

  it('compiles on the first run and runs the compiled build, as the Docker image does', () => {
    expect(report.compiledFirst).toBe(true);
    expect(report.ranCompiled).toBe(true);
  });

  it('runs a job enqueued by the producer end to end, and the shipped schedule fires', () => {
    expect(report.jobResult).toMatchObject({ invoiceId: expect.stringMatching(/^inv-/) });
    expect(report.jobCall).toEqual(['start-test-1']);
    expect(report.scheduledCall).toBe(true);
    expect(report.errors).toEqual([]);
  });

  it('serves the dashboard on :5555', () => {
    expect(report.dashboardLine).toMatch(/dashboard on http:\/\/127\.0\.0\.1:5555/);
    expect(report.dashboardHealth).toBe(200);
  });

  it('on Ctrl-C (SIGINT to its process group) stops cleanly and leaves no process behind', () => {
    expect(report.tree).toEqual(expect.arrayContaining([expect.stringMatching(/^redis-server 127\.0\.0\.1:6379/)]));
    expect(report.output).toContain('hub: stopped');
    expect(report.stopMs).toBeLessThan(15_000);
    expect(report.leftBehind).toEqual([]);
    expect(report.redisAfter).toBe('absent');
  });
});
