import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

/**
 * package-lock.json as `npm ci` needs it. A registry that does not serve some platform's optional
 * build makes npm leave it out of the lock, and npm ci then refuses the lock (.ci/run runs the
 * same check before npm ci, and scripts/check-lockfile.mjs says how to fix it).
 */
const root = new URL('..', import.meta.url).pathname;
type Entry = { version?: string; integrity?: string; link?: boolean; optionalDependencies?: Record<string, string> };
const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')) as { packages: Record<string, Entry> };
const dir = mkdtempSync(join(tmpdir(), 'task-hub-lock-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const check = (packages: Record<string, Entry>) => {
  const file = join(dir, 'package-lock.json');
  writeFileSync(file, JSON.stringify({ ...lock, packages }));
  return spawnSync(process.execPath, [join(root, 'scripts/check-lockfile.mjs'), file], { encoding: 'utf8' });
};

describe('package-lock.json', () => {
  it('has an entry for every dependency its entries declare, other platforms\' optional builds included', () => {
    const r = check(lock.packages);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(Object.keys(lock.packages['node_modules/msgpackr-extract']!.optionalDependencies!).every((n) => lock.packages[`node_modules/${n}`])).toBe(true);
  });

  it('holds only entries npm wrote: each package from the registry carries its integrity', () => {
    const unverified = Object.entries(lock.packages).filter(([path, e]) => path && !e.link && !e.integrity).map(([path]) => path);
    expect(unverified).toEqual([]);
  });

  it('the check names what a registry without the darwin/win32/arm builds leaves out, and the fix', () => {
    const stripped = Object.fromEntries(Object.entries(lock.packages).filter(([path]) => !/msgpackr-extract-(darwin|win32|linux-arm$)/.test(path)));
    const r = check(stripped);
    expect(r.status).toBe(1);
    for (const build of ['darwin-arm64', 'darwin-x64', 'linux-arm', 'win32-x64']) {
      expect(r.stderr).toContain(`@msgpackr-extract/msgpackr-extract-${build}@3.0.7  (optional dependency of node_modules/msgpackr-extract)`);
    }
    expect(r.stderr).not.toContain('linux-x64');
    expect(r.stderr).toContain('npm install --package-lock-only');
  });
});
