import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { parse } from 'yaml';

/**
 * The Docker image, without a Docker engine: the Dockerfile parsed into stages, its build stage's
 * COPYs replayed (minus .dockerignore), and the runtime stage's contents assembled in a folder:
 * package.json, dist/ and production node_modules only.
 */
export const root = new URL('../..', import.meta.url).pathname;
export const dockerfile = readFileSync(join(root, 'Dockerfile'), 'utf8');

export type Instruction = { op: string; args: string };
export type Stage = { from: string; name?: string; instructions: Instruction[] };

export const instructions: Instruction[] = dockerfile
  .replace(/\\\n/g, ' ')
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l && !l.startsWith('#'))
  .map((l) => {
    const [op = '', ...rest] = l.split(/\s+/);
    return { op: op.toUpperCase(), args: rest.join(' ') };
  });

export const stages: Stage[] = [];
for (const i of instructions) {
  if (i.op === 'FROM') {
    const [from = '', , name] = i.args.split(/\s+/);
    stages.push({ from, name, instructions: [] });
  } else stages.at(-1)?.instructions.push(i);
}
export const stage = (name: string): Stage => stages.find((s) => s.name === name)!;
export const runtime = stages.at(-1)!;
export const execForm = (args: string): string[] => JSON.parse(args) as string[];

const ignored = readFileSync(join(root, '.dockerignore'), 'utf8')
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l && !l.startsWith('#'));
const globToRegExp = (glob: string) =>
  new RegExp(`^${glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*\*\//g, '\0').replace(/\*/g, '[^/]*').replace(/\0/g, '(?:.*/)?')}$`);
export const isIgnored = (path: string): boolean => ignored.some((p) => globToRegExp(p).test(path) || path.startsWith(`${p}/`));

/** COPY <src...> <dest> of the build stage, from the repo into `dir`, as Docker would. */
export const copyBuildContext = (dir: string): void => {
  for (const { op, args } of stage('build').instructions) {
    if (op !== 'COPY' || args.includes('--from')) continue;
    const parts = args.split(/\s+/).filter((a) => !a.startsWith('--'));
    const dest = parts.pop()!;
    for (const src of parts) {
      const matches = src.includes('*') ? readdirSync(root).filter((f) => globToRegExp(src).test(f)) : [src];
      for (const m of matches) {
        if (isIgnored(m) || !existsSync(join(root, m))) continue;
        const target = dest.endsWith('/') || parts.length > 1 || src.includes('*') ? join(dir, dest, m) : join(dir, dest);
        cpSync(join(root, m), target, { recursive: true, filter: (f) => !isIgnored(relative(root, f)) });
      }
    }
  }
};

/** Copies the build context into a new folder and runs `npm run build` there. */
export const buildInScratch = () => {
  const dir = mkdtempSync(join(tmpdir(), 'task-hub-build-'));
  copyBuildContext(dir);
  symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'), 'dir');
  const result = spawnSync('npm', ['run', 'build'], { cwd: dir, encoding: 'utf8', env: { ...process.env, npm_config_update_notifier: 'false' } });
  return { dir, result };
};

/**
 * The runtime stage's /app: package.json, dist/, bin/ (the CLI), and node_modules holding only what
 * `npm ci --omit=dev` installs (the production tree per `npm ls --omit=dev`, linked from ours).
 */
export const assembleRuntime = (buildDir: string): string => {
  const app = mkdtempSync(join(tmpdir(), 'task-hub-app-'));
  cpSync(join(root, 'package.json'), join(app, 'package.json'));
  cpSync(join(buildDir, 'dist'), join(app, 'dist'), { recursive: true });
  cpSync(join(root, 'bin'), join(app, 'bin'), { recursive: true });
  const listed = spawnSync('npm', ['ls', '--omit=dev', '--all', '--parseable'], { cwd: root, encoding: 'utf8' }).stdout;
  const top = new Set(
    listed
      .split('\n')
      .map((p) => relative(join(root, 'node_modules'), p.trim()))
      .filter((p) => p && !p.startsWith('..'))
      .map((p) => p.split('/').slice(0, p.startsWith('@') ? 2 : 1).join('/')),
  );
  for (const name of top) {
    mkdirSync(dirname(join(app, 'node_modules', name)), { recursive: true });
    symlinkSync(join(root, 'node_modules', name), join(app, 'node_modules', name), 'dir');
  }
  return app;
};

export const walk = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)]));

/** Every dist/ file an image command runs: the Dockerfile's CMD and HEALTHCHECK, and the compose services'. */
export const commandTargets = (): string[] => {
  const cmd = runtime.instructions.find((i) => i.op === 'CMD')!;
  const health = runtime.instructions.find((i) => i.op === 'HEALTHCHECK')!;
  const compose = parse(readFileSync(join(root, 'docker-compose.yml'), 'utf8'), { merge: true }) as {
    services: Record<string, { command?: string[]; healthcheck?: { test: string[] } }>;
  };
  const commands = [
    execForm(cmd.args),
    execForm(health.args.slice(health.args.indexOf('CMD') + 3)),
    ...Object.values(compose.services).flatMap((s) => [s.command ?? [], s.healthcheck?.test ?? []]),
  ];
  return [...new Set(commands.flatMap((c) => c.filter((a) => a.startsWith('dist/'))))].sort();
};
