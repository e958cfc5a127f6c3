import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { EnvSchema, loadEnv } from '../src/config/env.ts';

type Service = {
  image?: string;
  build?: unknown;
  command?: string[] | string;
  environment?: Record<string, string>;
  env_file?: string | string[];
  ports?: string[];
  healthcheck?: { test: string[] | string; interval?: string };
  depends_on?: Record<string, { condition: string }>;
  stop_grace_period?: string;
  volumes?: string[];
  container_name?: string;
  init?: boolean;
};

const root = new URL('..', import.meta.url).pathname;
const source = readFileSync(join(root, 'docker-compose.yml'), 'utf8');
const compose = parse(source, { merge: true }) as { services: Record<string, Service>; volumes?: Record<string, unknown> };
const { redis, worker, beat, dashboard } = compose.services as Record<'redis' | 'worker' | 'beat' | 'dashboard', Service>;
const hubServices = { worker: worker!, beat: beat!, dashboard: dashboard! };
const schemaKeys = Object.keys(EnvSchema.shape);

/** Compose durations: `40s`, `1m30s`, `500ms`. */
const durationMs = (d: string | undefined): number => {
  let total = 0;
  for (const [, n, unit] of (d ?? '').matchAll(/(\d+(?:\.\d+)?)(ms|h|m|s)/g)) {
    total += Number(n) * { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 }[unit as 'ms' | 's' | 'm' | 'h'];
  }
  return total;
};

describe('docker-compose.yml', () => {
  it('has redis, worker, beat and dashboard', () => {
    expect(Object.keys(compose.services).sort()).toEqual(['beat', 'dashboard', 'redis', 'worker']);
  });

  it('runs each role of the one image with an exec-form command', () => {
    for (const [role, service] of Object.entries(hubServices)) {
      expect(service.command, role).toEqual(['node', `dist/src/${role}/main.js`]);
      expect(service.image, role).toBe(worker!.image);
      expect(service.build, role).toBe('.');
      expect(service.init, `${role}: tini forwards signals`).toBe(true);
    }
  });

  it('lets the worker scale: no fixed name, no published port, grace above WORKER_GRACE_MS', () => {
    expect(worker!.container_name).toBeUndefined();
    expect(worker!.ports).toBeUndefined();
    const example = readFileSync(join(root, '.env.example'), 'utf8').match(/^WORKER_GRACE_MS=(\d*)$/m)?.[1];
    const graceMs = Math.max(loadEnv({}).WORKER_GRACE_MS, Number(example || 0), Number(worker!.environment?.WORKER_GRACE_MS ?? 0));
    // Docker's SIGKILL must come after the worker's own grace, plus time to close its connections.
    expect(durationMs(worker!.stop_grace_period)).toBeGreaterThanOrEqual(graceMs + 10_000);
  });

  it('publishes the dashboard on 5555 and checks its health', () => {
    expect(dashboard!.ports).toEqual(['5555:5555']);
    expect(dashboard!.environment?.DASHBOARD_PORT).toBe('5555');
    expect(dashboard!.healthcheck?.test).toEqual(['CMD', 'node', 'dist/src/docker/healthcheck.js']);
    expect(redis!.ports, 'Redis is published on the host loopback only').toEqual(['127.0.0.1:${REDIS_HOST_PORT:-6379}:6379']);
    expect(beat!.ports).toBeUndefined();
  });

  it('starts hub services only once Redis is healthy, with Redis reached by service name', () => {
    for (const [role, service] of Object.entries(hubServices)) {
      expect(service.depends_on, role).toEqual({ redis: { condition: 'service_healthy' } });
      expect(service.environment?.REDIS_URL, role).toBe('redis://:${REDIS_PASSWORD:?set REDIS_PASSWORD in .env}@redis:6379');
      expect(service.environment?.NODE_ENV, role).toBe('production');
    }
  });

  it('runs Redis 7 with AOF everysec, noeviction, a password, a volume and a healthcheck', () => {
    expect(redis!.image).toMatch(/^redis:7\.\d+/);
    const command = [redis!.command].flat().join(' ');
    expect(command).toMatch(/exec redis-server /); // redis is PID 1's exec: SIGTERM reaches it
    expect(command).toMatch(/--appendonly yes/);
    expect(command).toMatch(/--appendfsync everysec/);
    expect(command).toMatch(/--maxmemory-policy noeviction/);
    expect(command).toMatch(/--requirepass "\$\$REDIS_PASSWORD"/);
    expect(redis!.environment?.REDIS_PASSWORD).toMatch(/^\$\{REDIS_PASSWORD:\?/);
    expect(redis!.volumes).toEqual(['redis-data:/data']);
    expect(compose.volumes).toHaveProperty('redis-data');
    expect([redis!.healthcheck?.test].flat().join(' ')).toMatch(/redis-cli ping/);
  });

  it('names only variables the hub reads, or compose-only ones from .env.example', () => {
    const example = readFileSync(join(root, '.env.example'), 'utf8');
    const composeOnly = [...example.split('# --- docker compose only')[1]!.matchAll(/^([A-Z_]+)=/gm)].map((m) => m[1]!);
    for (const [role, service] of Object.entries(hubServices)) {
      const unknown = Object.keys(service.environment ?? {}).filter((k) => !schemaKeys.includes(k));
      expect(unknown, `${role}: environment keys not in EnvSchema`).toEqual([]);
      expect(service.env_file, role).toBe('.env');
    }
    const interpolated = [...source.matchAll(/(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_]*)/g)].map((m) => m[1]!);
    const unexplained = interpolated.filter((k) => !schemaKeys.includes(k) && !composeOnly.includes(k));
    expect(unexplained, 'every ${VAR} in docker-compose.yml must be documented in .env.example').toEqual([]);
  });

  it('holds no literal secret', () => {
    for (const [name, service] of Object.entries(compose.services)) {
      for (const [key, value] of Object.entries(service.environment ?? {})) {
        if (/PASS|TOKEN|SECRET|AUTH$/.test(key)) expect(String(value), `${name}.${key}`).toMatch(/^\$\{[A-Z_]+:\?/);
      }
    }
  });
});

/** The real compose implementation, when one is installed (.ci/run installs Debian's docker-compose). */
const cli = ((): string[] | undefined => {
  if (spawnSync('docker', ['compose', 'version'], { stdio: 'ignore' }).status === 0) return ['docker', 'compose'];
  if (spawnSync('docker-compose', ['version'], { stdio: 'ignore' }).status === 0) return ['docker-compose'];
  process.stderr.write('compose.test: no docker compose or docker-compose on PATH (apt-get install docker-compose)\n');
  return undefined;
})();

describe.skipIf(!cli)('docker-compose.yml, validated by compose itself', () => {
  const [cmd, ...pre] = cli ?? ['true'];
  const dir = mkdtempSync(join(tmpdir(), 'task-hub-compose-'));
  copyFileSync(join(root, 'docker-compose.yml'), join(dir, 'docker-compose.yml'));
  copyFileSync(join(root, '.env.example'), join(dir, '.env'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const run = (env: NodeJS.ProcessEnv) =>
    spawnSync(cmd!, [...pre, '--project-directory', dir, '-f', join(dir, 'docker-compose.yml'), 'config'], {
      cwd: dir,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
      encoding: 'utf8',
    });

  it('accepts the file with .env.example as .env and a password set', () => {
    const result = run({ REDIS_PASSWORD: 'compose-test-password' });
    expect(result.stderr).not.toMatch(/error|invalid/i);
    expect(result.status).toBe(0);
    const resolved = parse(result.stdout) as { services: Record<string, Service> };
    expect(resolved.services.worker!.environment?.REDIS_URL).toBe('redis://:compose-test-password@redis:6379');
  });

  it('refuses to run without REDIS_PASSWORD, saying where to set it', () => {
    const result = run({});
    expect(result.status).not.toBe(0);
    expect(result.stderr).toMatch(/set REDIS_PASSWORD in \.env/);
  });
});
