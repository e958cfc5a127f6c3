import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

/**
 * scripts/ensure-system-deps.sh (npm test's pretest, npm start's launcher, .ci/run) on a PATH that
 * holds only what a case gives it: the coreutils it uses, and stand-ins for the tools it looks for,
 * for apt-get (it logs its calls and "installs" by creating the package's binary) and for sudo.
 */
const root = new URL('..', import.meta.url).pathname;
const script = join(root, 'scripts/ensure-system-deps.sh');
const which = (tool: string) => spawnSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).stdout.trim();
const bash = which('bash');

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

const stub = (bin: string, name: string, body: string) => {
  writeFileSync(join(bin, name), `#!/bin/sh\n${body}\n`);
  chmodSync(join(bin, name), 0o755);
};

const run = (mode: string, { have = [] as string[], uid = 0, sudo = false, apt = true, aptFails = false, env = {} as Record<string, string> } = {}) => {
  const dir = mkdtempSync(join(tmpdir(), 'task-hub-sysdeps-'));
  dirs.push(dir);
  const bin = join(dir, 'bin');
  const log = join(dir, 'apt.log');
  spawnSync('mkdir', [bin]);
  for (const tool of ['id', 'mktemp', 'tail', 'rm', 'env']) symlinkSync(which(tool), join(bin, tool));
  stub(bin, 'id', `echo ${uid}`);
  for (const tool of have) stub(bin, tool, 'exit 0');
  const binaryOf: Record<string, string> = { 'redis-server': 'redis-server', chromium: 'chromium', prometheus: 'promtool', 'docker-compose': 'docker-compose' };
  if (apt) {
    stub(
      bin,
      'apt-get',
      [
        `echo "\${VIA_SUDO:+sudo }$*" >> ${log}`,
        aptFails ? 'echo "E: Unable to locate package chromium" >&2; exit 100' : '',
        'if [ "$1" = install ]; then for p in "$@"; do case "$p" in',
        ...Object.entries(binaryOf).map(([p, b]) => `  ${p}) printf '#!/bin/sh\\n' > ${bin}/${b}; ${which('chmod')} +x ${bin}/${b} ;;`),
        'esac; done; fi',
      ].join('\n'),
    );
  }
  // A stand-in sudo, passwordless or not: what it runs knows it came through sudo.
  stub(bin, 'sudo', sudo ? '[ "$1" = -n ] && shift; [ "$1" = true ] && exit 0; VIA_SUDO=1 exec "$@"' : 'echo "sudo: a password is required" >&2; exit 1');
  const r = spawnSync(bash, [script, mode], { env: { PATH: bin, ...env }, encoding: 'utf8' });
  const calls = existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n') : [];
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, calls, has: (tool: string) => existsSync(join(bin, tool)) };
};

const ALL = ['redis-server', 'chromium', 'promtool', 'docker-compose'];

describe('scripts/ensure-system-deps.sh', () => {
  it('with everything present: exits 0, says nothing, calls no apt-get', () => {
    const r = run('test', { have: ALL, uid: 1000 });
    expect(r).toMatchObject({ status: 0, stdout: '', stderr: '', calls: [] });
  });

  it('as root: installs what npm test lacks with apt-get, in one install', () => {
    const r = run('test', { have: ['promtool', 'docker-compose'] });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.calls).toEqual(['update -qq', 'install -y -qq --no-install-recommends redis-server chromium']);
    expect(r.stdout).toMatch(/npm test: redis-server, chromium missing: installing redis-server chromium with apt-get/);
    expect(r.has('redis-server') && r.has('chromium')).toBe(true);
  });

  it('with passwordless sudo: installs through sudo', () => {
    const r = run('test', { have: ['redis-server', 'chromium'], uid: 1000, sudo: true });
    expect(r.status).toBe(0);
    expect(r.calls).toEqual(['sudo update -qq', 'sudo install -y -qq --no-install-recommends prometheus docker-compose']);
    expect(r.stdout).toContain('with sudo apt-get');
  });

  it('when it may not install: prints the one command to run, exits 2, installs nothing', () => {
    const r = run('test', { uid: 1000 });
    expect(r.status).toBe(2);
    expect(r.calls).toEqual([]);
    expect(r.stderr).toContain('npm test needs redis-server, chromium, promtool, docker-compose, and may not install them here (not root, no passwordless sudo). Run:');
    expect(r.stderr).toContain('\n  sudo apt-get update && sudo apt-get install -y --no-install-recommends redis-server chromium prometheus docker-compose\n');
  });

  it('npm start needs only redis-server', () => {
    expect(run('start', { have: ['redis-server'] })).toMatchObject({ status: 0, stdout: '', calls: [] });
    const r = run('start', { uid: 1000 });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('npm start needs redis-server,');
    expect(r.stderr).toContain('sudo apt-get install -y --no-install-recommends redis-server\n');
  });

  it('an apt-get failure shows its output and the command, exit 1', () => {
    const r = run('test', { have: ['redis-server', 'promtool', 'docker-compose'], aptFails: true });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('E: Unable to locate package chromium');
    expect(r.stderr).toContain('apt-get failed (above). Install them yourself: sudo apt-get install -y --no-install-recommends chromium');
  });

  it('without apt-get it names what is missing; CHROMIUM_PATH and PROMTOOL_PATH stand for their tools', () => {
    const r = run('test', { apt: false, have: ['redis-server', 'docker-compose', 'my-promtool'], env: { CHROMIUM_PATH: '/opt/chrome/chrome' } });
    expect(r).toMatchObject({ status: 2, calls: [] });
    expect(r.stderr).toContain('npm test needs promtool, not found on PATH');
    expect(run('test', { apt: false, have: ['redis-server', 'docker-compose', 'my-promtool'], env: { CHROMIUM_PATH: '/x', PROMTOOL_PATH: 'my-promtool' } }).status).toBe(0);
  });

  it('is what npm test runs first, and what .ci/run installs with', () => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    expect(pkg.scripts.pretest).toBe('bash scripts/ensure-system-deps.sh test');
    expect(readFileSync(join(root, '.ci/run'), 'utf8')).toMatch(/^bash scripts\/ensure-system-deps\.sh test$/m);
  });
});
