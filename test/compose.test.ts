import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { EnvSchema, loadEnv } from '../src/config/env.ts';
import { redisTargetOf } from '../src/config/redis-target.ts';

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
  profiles?: string[];
  entrypoint?: string[] | string;
  restart?: string;
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
  it('has redis, worker, beat and dashboard, and prometheus and grafana in the monitoring profile only', () => {
    expect(Object.keys(compose.services).sort()).toEqual(['beat', 'dashboard', 'grafana', 'prometheus', 'redis', 'worker']);
    const profiled = Object.entries(compose.services).filter(([, s]) => s.profiles).map(([name, s]) => [name, s.profiles]);
    expect(profiled).toEqual([
      ['prometheus', ['monitoring']],
      ['grafana', ['monitoring']],
    ]);
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
      // A profile's service cannot require its variables with ${VAR:?}: compose 1.x interpolates
      // every service, so the hub without the profile would refuse to start. Those check at start.
      const reference = service.profiles ? /^\$\{[A-Z_]+(:\?[^}]*|:-)\}$/ : /^\$\{[A-Z_]+:\?/;
      for (const [key, value] of Object.entries(service.environment ?? {})) {
        if (/PASS|TOKEN|SECRET|AUTH$/.test(key)) expect(String(value), `${name}.${key}`).toMatch(reference);
      }
    }
  });

  it('monitoring: Prometheus scrapes the dashboard with the read-only account and loads the alert rules; Grafana gets the dashboard', () => {
    const { prometheus, grafana } = compose.services as Record<'prometheus' | 'grafana', Service>;
    expect(prometheus!.volumes).toContain('./deploy/prometheus:/etc/task-hub:ro');
    expect(prometheus!.entrypoint).toEqual(['/bin/sh', '/etc/task-hub/prometheus-entrypoint.sh']);
    expect(Object.keys(prometheus!.environment ?? {}).sort()).toEqual(['DASHBOARD_READONLY_PASSWORD', 'DASHBOARD_READONLY_USER']);
    const config = parse(readFileSync(join(root, 'deploy/prometheus/prometheus.yml'), 'utf8')) as {
      rule_files: string[];
      scrape_configs: { job_name: string; metrics_path: string; basic_auth: { username: string; password_file: string }; static_configs: { targets: string[] }[] }[];
    };
    expect(config.rule_files).toEqual(['/etc/task-hub/alerts.yml']);
    const [job] = config.scrape_configs;
    expect(job).toMatchObject({ job_name: 'task-hub', metrics_path: '/metrics', static_configs: [{ targets: ['dashboard:5555'] }] });
    const entrypoint = readFileSync(join(root, 'deploy/prometheus/prometheus-entrypoint.sh'), 'utf8');
    expect(entrypoint).toContain(job!.basic_auth.username);
    expect(entrypoint).toContain(`> ${job!.basic_auth.password_file}`);
    expect(grafana!.volumes).toEqual(expect.arrayContaining(['./deploy/grafana/provisioning:/etc/grafana/provisioning:ro', './deploy/grafana/task-hub.json:/var/lib/grafana/dashboards/task-hub.json:ro']));
    for (const service of [prometheus!, grafana!]) expect(service.ports?.every((p) => p.startsWith('127.0.0.1:'))).toBe(true);
    expect(compose.volumes).toHaveProperty('prometheus-data');
  });
});

/** The real compose implementation, when one is installed (.ci/run installs Debian's docker-compose). */
const cli = ((): string[] | undefined => {
  if (spawnSync('docker', ['compose', 'version'], { stdio: 'ignore' }).status === 0) return ['docker', 'compose'];
  if (spawnSync('docker-compose', ['version'], { stdio: 'ignore' }).status === 0) return ['docker-compose'];
  process.stderr.write('compose.test: no docker compose or docker-compose on PATH (apt-get install docker-compose)\n');
  return undefined;
})();

/**
 * `compose config` on a copy of `file` in a temp folder with .env.example as its .env: what an
 * operator's first `docker compose up` would resolve, with only PATH, HOME and `env` set.
 */
const composeConfig = (file: string) => {
  const [cmd, ...pre] = cli ?? ['true'];
  const dir = mkdtempSync(join(tmpdir(), 'task-hub-compose-'));
  copyFileSync(join(root, file), join(dir, file));
  copyFileSync(join(root, '.env.example'), join(dir, '.env'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  return (env: NodeJS.ProcessEnv, args: string[] = []) =>
    spawnSync(cmd!, [...pre, '--project-directory', dir, '-f', join(dir, file), ...args], {
      cwd: dir,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
      encoding: 'utf8',
    });
};

/** Both compose files must resolve with a password and refuse, saying where to set it, without one. */
const acceptsWithPasswordOnly = (run: ReturnType<typeof composeConfig>, worker: (environment: Service['environment']) => void) => {
  it('accepts the file with .env.example as .env and a password set', () => {
    const result = run({ REDIS_PASSWORD: 'compose-test-password' }, ['config']);
    expect(result.stderr).not.toMatch(/error|invalid/i);
    expect(result.status).toBe(0);
    worker((parse(result.stdout) as { services: Record<string, Service> }).services.worker!.environment);
  });

  it('refuses to run without REDIS_PASSWORD, saying where to set it', () => {
    const result = run({}, ['config']);
    expect(result.status).not.toBe(0);
    expect(result.stderr).toMatch(/set REDIS_PASSWORD in \.env/);
  });
};

describe.skipIf(!cli)('docker-compose.yml, validated by compose itself', () => {
  const run = composeConfig('docker-compose.yml');
  acceptsWithPasswordOnly(run, (environment) => expect(environment?.REDIS_URL).toBe('redis://:compose-test-password@redis:6379'));

  it('accepts the monitoring profile', () => {
    const monitoring = run({ REDIS_PASSWORD: 'compose-test-password' }, ['--profile', 'monitoring', 'config', '--services']);
    expect(monitoring.status, monitoring.stderr).toBe(0);
    expect(monitoring.stdout.trim().split('\n').sort()).toEqual(['beat', 'dashboard', 'grafana', 'prometheus', 'redis', 'worker']);
  });
});

describe('docker-compose.cluster.yml: the hub on a Redis Cluster', () => {
  const clusterSource = readFileSync(join(root, 'docker-compose.cluster.yml'), 'utf8');
  const file = parse(clusterSource, { merge: true }) as { services: Record<string, Service>; volumes?: Record<string, unknown> };
  const nodes = Object.keys(file.services).filter((s) => /^redis-\d$/.test(s));
  const init = file.services['cluster-init']!;
  const roles = { worker: file.services.worker!, beat: file.services.beat!, dashboard: file.services.dashboard! };

  it('has six Redis nodes, the one-shot cluster-init, and worker, beat and dashboard', () => {
    expect(Object.keys(file.services).sort()).toEqual(['beat', 'cluster-init', 'dashboard', 'redis-1', 'redis-2', 'redis-3', 'redis-4', 'redis-5', 'redis-6', 'worker']);
  });

  it('runs every node in cluster mode with AOF, noeviction, a password for clients and replicas, its own volume and a healthcheck', () => {
    for (const name of nodes) {
      const node = file.services[name]!;
      const command = [node.command].flat().join(' ');
      expect(command, name).toMatch(/exec redis-server /);
      expect(command, name).toMatch(/--cluster-enabled yes/);
      expect(command, name).toMatch(/--cluster-announce-hostname "\$\$NODE_NAME"/);
      expect(node.environment?.NODE_NAME, name).toBe(name);
      expect(command, name).toMatch(/--appendonly yes --appendfsync everysec/);
      expect(command, name).toMatch(/--maxmemory-policy noeviction/);
      expect(command, name).toMatch(/--requirepass "\$\$REDIS_PASSWORD" --masterauth "\$\$REDIS_PASSWORD"/);
      expect(node.volumes, name).toEqual([`${name}:/data`]);
      expect(file.volumes, name).toHaveProperty(name);
      expect([node.healthcheck?.test].flat().join(' '), name).toMatch(/redis-cli ping/);
      expect(node.ports, `${name} stays on the compose network`).toBeUndefined();
    }
  });

  it('forms the cluster once, from every node, with one replica per master, after every node is healthy', () => {
    const command = [init.command].flat().join(' ');
    expect(command).toMatch(new RegExp(`--cluster create ${nodes.map((n) => `${n}:6379`).join(' ')}\\s+--cluster-replicas 1 --cluster-yes`));
    expect(command).toMatch(/cluster_state:ok \|\| redis-cli --cluster create/);
    expect(init.restart).toBe('no');
    expect(init.depends_on).toEqual(Object.fromEntries(nodes.map((n) => [n, { condition: 'service_healthy' }])));
  });

  it('points every role at the cluster, once it is formed, with settings the hub accepts', () => {
    for (const [role, service] of Object.entries(roles)) {
      expect(service.command, role).toEqual(['node', `dist/src/${role}/main.js`]);
      expect(service.depends_on, role).toEqual({ 'cluster-init': { condition: 'service_completed_successfully' } });
      expect(Object.keys(service.environment ?? {}).filter((k) => !schemaKeys.includes(k)), role).toEqual([]);
      const env = { ...service.environment, REDIS_URL: service.environment!.REDIS_URL!.replace('${REDIS_PASSWORD:?set REDIS_PASSWORD in .env}', 'pw') };
      const target = redisTargetOf(loadEnv(env));
      expect(target, role).toEqual({ nodes: ['redis-1', 'redis-2', 'redis-3'].map((host) => ({ host, port: 6379 })), password: 'pw' });
    }
    expect(roles.worker.stop_grace_period).toBe(worker!.stop_grace_period);
    expect(roles.dashboard.ports).toEqual(['5555:5555']);
  });

  it('holds no literal secret, and every ${VAR} is documented in .env.example', () => {
    const example = readFileSync(join(root, '.env.example'), 'utf8');
    const composeOnly = [...example.split('# --- docker compose only')[1]!.matchAll(/^([A-Z_]+)=/gm)].map((m) => m[1]!);
    const interpolated = [...clusterSource.matchAll(/(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_]*)/g)].map((m) => m[1]!);
    expect(interpolated.filter((k) => !schemaKeys.includes(k) && !composeOnly.includes(k))).toEqual([]);
    for (const [name, service] of Object.entries(file.services)) {
      for (const [key, value] of Object.entries(service.environment ?? {})) {
        if (/PASS|TOKEN|SECRET|AUTH$/.test(key)) expect(String(value), `${name}.${key}`).toMatch(/^\$\{[A-Z_]+:\?/);
      }
    }
  });

  describe.skipIf(!cli)('validated by compose itself', () => {
    acceptsWithPasswordOnly(composeConfig('docker-compose.cluster.yml'), (environment) => {
      expect(environment?.REDIS_URL).toBe('redis://:compose-test-password@cluster');
      expect(environment?.REDIS_CLUSTER_NODES).toBe('redis-1:6379,redis-2:6379,redis-3:6379');
    });
  });
});
