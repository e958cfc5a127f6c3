import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join, relative } from 'node:path';
import { createInterface } from 'node:readline';
import { validate, ValidationSeverity } from 'dockerfile-utils';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../src/launcher/redis-server.ts';
import { createProducer } from '../src/producer/index.ts';
import * as image from './helpers/image.ts';
import { StubService } from './helpers/stub-service.ts';
import { deletePrefix, newPrefix, testRedisUrl } from './helpers/test-hub.ts';

/**
 * No Docker engine runs here, so the image is checked piece by piece: the Dockerfile's shape and
 * lint, a build from exactly what its build stage copies, and the runtime stage's files (compiled
 * JS + production node_modules) running each role under plain node.
 */
const { stages, stage, runtime, instructions, execForm, isIgnored } = image;
const pkg = JSON.parse(readFileSync(join(image.root, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };

describe('Dockerfile', () => {
  it('builds with dev dependencies, then runs production dependencies and compiled JS only', () => {
    expect(stages.map((s) => s.name)).toEqual(['build', 'deps', 'runtime']);
    const runs = (s: image.Stage) => s.instructions.filter((i) => i.op === 'RUN').map((i) => i.args);
    expect(runs(stage('build'))).toEqual(['npm ci --no-audit --no-fund', 'npm run build']);
    expect(runs(stage('deps'))[0]).toMatch(/^npm ci --omit=dev /);
    const copies = runtime.instructions.filter((i) => i.op === 'COPY').map((i) => i.args);
    expect(copies).toEqual(['package.json ./', '--from=deps /app/node_modules ./node_modules', '--from=build /app/dist ./dist', 'bin ./bin']);
    expect(runs(runtime).join(' '), 'npm and npx are removed from the final image').toMatch(/rm -rf .*\/usr\/local\/bin\/npm /);
  });

  it('uses a Node LTS base, runs as a non-root user, with exec-form CMD and HEALTHCHECK', () => {
    const nodeVersion = instructions.find((i) => i.op === 'ARG' && i.args.startsWith('NODE_VERSION='))!.args.split('=')[1];
    expect(Number(nodeVersion) % 2, 'even majors are the LTS lines').toBe(0);
    expect(Number(nodeVersion)).toBeGreaterThanOrEqual(22);
    for (const s of stages) expect(s.from).toBe('node:${NODE_VERSION}-bookworm-slim');
    expect(runtime.instructions.filter((i) => i.op === 'USER').map((i) => i.args)).toEqual(['node']);
    expect(runtime.instructions.find((i) => i.op === 'ENV')?.args).toBe('NODE_ENV=production');
    expect(instructions.some((i) => i.op === 'ENTRYPOINT'), 'no shell wrapper between Docker and node').toBe(false);
    expect(execForm(runtime.instructions.find((i) => i.op === 'CMD')!.args)).toEqual(['node', 'dist/src/worker/main.js']);
    expect(runtime.instructions.find((i) => i.op === 'HEALTHCHECK')?.args).toMatch(/CMD \["node", "dist\/src\/docker\/healthcheck\.js"\]$/);
  });

  it('passes the Dockerfile linter of the VS Code Docker tooling (dockerfile-utils), strictest settings', () => {
    const strict = ValidationSeverity.ERROR;
    const problems = validate(image.dockerfile, {
      deprecatedMaintainer: strict,
      directiveCasing: strict,
      emptyContinuationLine: strict,
      instructionCasing: strict,
      instructionCmdMultiple: strict,
      instructionEntrypointMultiple: strict,
      instructionHealthcheckMultiple: strict,
      instructionJSONInSingleQuotes: strict,
      instructionWorkdirRelative: strict,
    });
    expect(problems.map((p) => `line ${p.range.start.line + 1}: ${p.message}`)).toEqual([]);
  });

  it('keeps secrets, local state and artefacts out of the build context', () => {
    for (const p of ['.env', '.git', '.hub-data', 'node_modules', 'dist', 'test']) expect(isIgnored(p), p).toBe(true);
    expect(isIgnored('.env.production')).toBe(true);
    expect(isIgnored('src/worker/dispatch.test.ts')).toBe(true);
    expect(isIgnored('src/worker/main.ts')).toBe(false);
  });
});

describe('the image, assembled from `npm run build` and production dependencies', () => {
  let build: { dir: string; result: SpawnSyncReturns<string> };
  let app = '';
  const prefixes: string[] = [];

  beforeAll(() => {
    build = image.buildInScratch();
    if (build.result.status === 0) app = image.assembleRuntime(build.dir);
  }, 120_000);
  afterAll(async () => {
    for (const d of [build?.dir, app]) if (d) rmSync(d, { recursive: true, force: true });
    const redis = new Redis(testRedisUrl());
    for (const p of prefixes) await deletePrefix(redis, p);
    redis.disconnect();
  });
  const envFor = (extra: Record<string, string>) => {
    const prefix = newPrefix();
    prefixes.push(prefix);
    return { PATH: process.env.PATH, NODE_ENV: 'production', REDIS_URL: testRedisUrl(), HUB_PREFIX: prefix, LOG_LEVEL: 'info', ...extra };
  };

  it('builds from the files the Dockerfile copies', () => {
    expect(build.result.stderr + build.result.stdout).not.toMatch(/error TS/);
    expect(build.result.status).toBe(0);
  });

  it('has every file the image commands point at', () => {
    const targets = image.commandTargets();
    expect(targets).toEqual(
      expect.arrayContaining(['dist/src/worker/main.js', 'dist/src/beat/main.js', 'dist/src/dashboard/main.js', 'dist/src/docker/healthcheck.js']),
    );
    expect(targets.filter((t) => !existsSync(join(app, t)))).toEqual([]);
  });

  it('starts each role under plain node: a bad variable stops it with its name', () => {
    for (const target of image.commandTargets().filter((t) => t.endsWith('/main.js'))) {
      const run = spawnSync('node', [target], { cwd: app, encoding: 'utf8', timeout: 20_000, env: envFor({ LOG_LEVEL: 'loud' }) });
      expect(run.stderr, target).not.toMatch(/ERR_MODULE_NOT_FOUND|Cannot find/);
      expect(run.stderr, target).toMatch(/invalid environment[\s\S]*LOG_LEVEL/);
      expect(run.status, target).toBe(1);
    }
  });

  it('imports no dev dependency at run time', () => {
    const builtins = new Set(builtinModules);
    const used = new Set<string>();
    for (const file of image.walk(join(app, 'dist')).filter((f) => f.endsWith('.js'))) {
      for (const [, spec] of readFileSync(file, 'utf8').matchAll(/(?:from|import)\s*\(?\s*['"]([^'"./][^'"]*)['"]/g)) {
        const name = spec!.startsWith('@') ? spec!.split('/').slice(0, 2).join('/') : spec!.split('/')[0]!;
        if (!spec!.startsWith('node:') && !builtins.has(name)) used.add(name);
      }
    }
    expect([...used].filter((n) => !pkg.dependencies[n]).sort(), 'move these to dependencies').toEqual([]);
    expect(used).toContain('bullmq');
  });

  it('loads every file it names at run time (new URL(..., import.meta.url) points at a file in dist)', () => {
    // tsc rewrites import specifiers (.ts -> .js) but not paths in strings: a sandboxed processor
    // named './x.ts' exists under tsx and is missing from the image.
    const missing: string[] = [];
    for (const file of image.walk(join(app, 'dist')).filter((f) => f.endsWith('.js'))) {
      for (const [, path] of readFileSync(file, 'utf8').matchAll(/new URL\(\s*['"`](\.{1,2}\/[^'"`$]+)['"`]\s*,\s*import\.meta\.url\s*\)/g)) {
        if (!existsSync(join(file, '..', path!))) missing.push(`${relative(app, file)}: ${path}`);
      }
    }
    expect(missing, 'pick the extension from import.meta.url (.ts under tsx, .js in dist)').toEqual([]);
  });

  it('runs the task-hub CLI from the compiled build (no src/, no tsx): help, and a command against Redis', () => {
    const help = spawnSync('node', ['bin/task-hub.js', '--help'], { cwd: app, encoding: 'utf8', timeout: 20_000, env: envFor({}) });
    expect(help.stderr).toBe('');
    expect(help.stdout).toMatch(/usage: task-hub <command>/);
    expect(help.status).toBe(0);
    const queues = spawnSync('node', ['bin/task-hub.js', 'queues', '--json'], { cwd: app, encoding: 'utf8', timeout: 20_000, env: envFor({}) });
    expect(queues.status, queues.stderr).toBe(0);
    expect((JSON.parse(queues.stdout) as { queues: { name: string }[] }).queues.map((q) => q.name)).toContain('order');
    const bad = spawnSync('node', ['bin/task-hub.js', 'queues', 'limit', 'order', '--concurrency', '0'], { cwd: app, encoding: 'utf8', timeout: 20_000, env: envFor({}) });
    expect(bad.stderr).toMatch(/concurrency/);
    expect(bad.status).toBe(2);
  });

  it('ships no tests', () => {
    expect(image.walk(join(app, 'dist')).filter((f) => /\.test(-d)?\.js$/.test(f))).toEqual([]);
  });

  it('runs a job end to end: worker (production mode) takes it, calls the service, exits 0 on SIGTERM; beat --once reconciles', async () => {
    const order = await StubService.start();
    const env = envFor({ ORDER_SERVICE_URL: order.url });
    const worker = spawn('node', ['dist/src/worker/main.js'], { cwd: app, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const lines: string[] = [];
    for (const s of [worker.stdout!, worker.stderr!]) createInterface({ input: s }).on('line', (l) => lines.push(l));
    const exited = new Promise<number | null>((r) => worker.once('exit', r));
    const producer = createProducer({ redisUrl: env.REDIS_URL, prefix: env.HUB_PREFIX, service: 'image-test' });
    try {
      order.reply('POST', '/api/orders/:id/invoice', { status: 200, body: { invoiceId: 'inv-image' } });
      const job = await producer.enqueue('order.generateInvoice', { orderId: randomUUID() }, { requestId: 'image-1' });
      await expect(producer.waitFor(job, { timeoutMs: 20_000 })).resolves.toEqual({ invoiceId: 'inv-image' });
      expect(order.requests[0]?.headers['x-request-id']).toBe('image-1');
      worker.kill('SIGTERM');
      expect(await exited, lines.join('\n')).toBe(0);
      const beat = spawnSync('node', ['dist/src/beat/main.js', '--once'], { cwd: app, env, encoding: 'utf8', timeout: 30_000 });
      expect(beat.status, beat.stderr).toBe(0);
      expect(beat.stdout + beat.stderr).toMatch(/scheduler created/);
    } finally {
      worker.kill('SIGKILL');
      await producer.close();
      await order.close();
    }
  }, 60_000);

  // As in a container: the dashboard is PID 1 of its own PID namespace, the check runs beside it.
  const pidNamespaces = spawnSync('unshare', ['-rpf', '--mount-proc', 'true'], { stdio: 'ignore' }).status === 0;
  it.skipIf(!pidNamespaces)('HEALTHCHECK: passes while the dashboard serves /healthz, fails when it does not answer', async () => {
    const port = await freePort();
    const env = envFor({ DASHBOARD_PORT: String(port), DASHBOARD_PASSWORD: 'image-test-password', LOG_LEVEL: 'warn' });
    const ns = spawn('unshare', ['-rpf', '--mount-proc', 'node', 'dist/src/dashboard/main.js'], { cwd: app, env, stdio: 'ignore' });
    const exited = new Promise((r) => ns.once('exit', r));
    let pid1 = '';
    try {
      const deadline = Date.now() + 20_000;
      while (!(await fetch(`http://127.0.0.1:${port}/healthz`).then((r) => r.ok, () => false))) {
        if (Date.now() > deadline) throw new Error('the compiled dashboard did not serve /healthz within 20 s');
        await new Promise((r) => setTimeout(r, 100));
      }
      pid1 = readFileSync(`/proc/${ns.pid}/task/${ns.pid}/children`, 'utf8').trim();
      const check = (p: number) =>
        spawnSync('nsenter', ['-t', pid1, '-U', '-p', '-m', '--preserve-credentials', `--wd=${app}`, 'node', 'dist/src/docker/healthcheck.js'], {
          env: { PATH: process.env.PATH, DASHBOARD_PORT: String(p) },
          encoding: 'utf8',
        });
      expect(check(port).status).toBe(0);
      const silent = check(await freePort());
      expect(silent.stderr).toMatch(/healthcheck: \/healthz did not answer/);
      expect(silent.status).toBe(1);
    } finally {
      if (pid1) process.kill(Number(pid1), 'SIGTERM');
      else ns.kill('SIGKILL');
      await exited;
    }
    // Worker and beat have no port: healthy while their process runs (here PID 1 is not a dashboard).
    expect(spawnSync('node', ['dist/src/docker/healthcheck.js'], { cwd: app }).status).toBe(0);
  }, 40_000);
});
