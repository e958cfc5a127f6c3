#!/usr/bin/env node
/**
 * `npm run worker|beat|dashboard` and `npm start` run the compiled build, as the Docker image
 * does: under tsx the same worker spent about 5 % more CPU per job (README, Performance).
 *
 *   node scripts/run-built.mjs src/worker/main.ts [args...]
 *
 * Compiles to dist/ first when a source changed since the last build (tsc -p tsconfig.build.json,
 * what `npm run build` runs; incremental, so a change costs seconds, not a full build), then runs
 * dist/<entry>.js in this process: one process, so a signal from the terminal or a supervisor
 * reaches the role directly. Plain JS, so it runs before anything is compiled.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const [entry, ...args] = process.argv.slice(2);
if (!entry || !/^src\/.+\.ts$/.test(entry)) {
  process.stderr.write('usage: node scripts/run-built.mjs src/<role>/main.ts [args...]\n');
  process.exit(64);
}

const dist = join(root, 'dist');
const stampFile = join(dist, '.sources');
const SOURCE = /\.(ts|cjs|mjs|js)$/;

/** Every file tsconfig.build.json compiles (src, tasks, the top-level data files) and the configs, with size and mtime. */
const sources = () => {
  const found = [];
  const walk = (dir) => {
    for (const e of readdirSync(join(root, dir), { withFileTypes: true })) {
      const path = join(dir, e.name);
      if (e.isDirectory()) walk(path);
      else if (SOURCE.test(e.name) && !e.name.endsWith('.test.ts')) found.push(path);
    }
  };
  walk('src');
  walk('tasks');
  for (const f of readdirSync(root)) if (/^[\w.-]+\.ts$/.test(f) && !f.startsWith('vitest')) found.push(f);
  found.push('tsconfig.json', 'tsconfig.build.json', 'package.json');
  return found.sort().map((f) => {
    const s = statSync(join(root, f));
    return `${f} ${s.size} ${Math.round(s.mtimeMs)}`;
  });
};

const current = sources();
const stamp = existsSync(stampFile) ? readFileSync(stampFile, 'utf8').split('\n') : [];
const names = (list) => list.map((l) => l.slice(0, l.indexOf(' '))).join('\n');
if (stamp.join('\n') !== current.join('\n')) {
  // A file added, renamed or removed: start clean, so dist/ holds nothing stale.
  const clean = names(stamp) !== names(current);
  process.stderr.write(`run-built: compiling to dist/ (${stamp.length ? 'sources changed' : 'first run'}${clean ? ', clean build' : ''})...\n`);
  if (clean) rmSync(dist, { recursive: true, force: true });
  const tsc = spawnSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json', '--incremental', '--tsBuildInfoFile', join(dist, '.tsbuildinfo')], {
    cwd: root,
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  if (tsc.status !== 0) {
    process.stderr.write('run-built: tsc failed (above); nothing was started\n');
    process.exit(1);
  }
  writeFileSync(stampFile, current.join('\n'));
}

// A schedule module given as TypeScript (BEAT_SCHEDULE=./staging-schedule.ts) needs tsx's loader.
if (/\.(ts|mts)$/.test(process.env.BEAT_SCHEDULE ?? '')) (await import('tsx/esm/api')).register();

const compiled = join(dist, entry.replace(/\.ts$/, '.js'));
process.argv = [process.argv[0], compiled, ...args];
process.stderr.write(`run-built: ${relative(root, compiled)}\n`);
await import(pathToFileURL(compiled).href);
