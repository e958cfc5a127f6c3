import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '..');

const importsOf = (file: string): { files: string[]; packages: string[] } => {
  const { importedFiles } = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
  const files: string[] = [];
  const packages: string[] = [];
  for (const { fileName } of importedFiles) {
    if (fileName.startsWith('.')) {
      const target = resolve(dirname(file), fileName);
      if (!existsSync(target)) throw new Error(`${relative(root, file)} imports missing ${fileName}`);
      files.push(relative(root, target));
    } else {
      packages.push(fileName.startsWith('@') ? fileName.split('/').slice(0, 2).join('/') : fileName.split('/')[0]!);
    }
  }
  return { files, packages };
};

/** Every module the file reaches through static and dynamic imports: [local files, packages]. */
const importGraph = (entry: string) => {
  const files = new Set<string>();
  const packages = new Set<string>();
  const visit = (file: string) => {
    if (files.has(file)) return;
    files.add(file);
    const direct = importsOf(resolve(root, file));
    direct.packages.forEach((p) => packages.add(p));
    direct.files.forEach(visit);
  };
  visit(entry);
  return { files: [...files].sort(), packages: [...packages].sort() };
};

const sourceFiles = (dir: string): string[] =>
  readdirSync(resolve(root, dir), { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(path);
    return e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') ? [path] : [];
  });

/** The plain-data files at the top level (queues, services, schedule, ...): they import contracts only. */
const DATA = /^[a-z-]+(\.config)?\.ts$/;

/**
 * STYLE.md's import table: which parts of the tree each part may import, and which packages.
 * `src/contracts` <- `src/core` <- `src/producer` <- `src/beat`; tasks use contracts, core,
 * service clients and the producer; only the worker imports tasks/; only the dashboard imports
 * express and Bull Board; entry points and the launcher sit on top.
 */
const RULES: { part: RegExp; name: string; may: RegExp; packages: RegExp }[] = [
  { name: 'src/contracts', part: /^src\/contracts\//, may: /^src\/contracts\//, packages: /^zod$/ },
  // events.ts holds zod schemas (the events' payloads), as the contracts do.
  { name: 'events.ts', part: /^events\.ts$/, may: /^src\/contracts\//, packages: /^zod$/ },
  { name: 'data files', part: DATA, may: /^src\/contracts\//, packages: /^$/ },
  { name: 'src/core', part: /^src\/core\//, may: /^(src\/(contracts|core)\/|[a-z-]+\.config\.ts$)/, packages: /^(zod|bullmq|ioredis|pino|pino-pretty|@opentelemetry\/api|node:.*)$/ },
  { name: 'src/config', part: /^src\/config\//, may: /^(src\/(contracts|core|config)\/|[a-z-]+\.config\.ts$)/, packages: /^(zod|node:.*)$/ },
  { name: 'src/producer', part: /^src\/producer\//, may: /^(src\/(contracts|core|producer)\/|queues\.config\.ts$|events\.ts$)/, packages: /^(bullmq|ioredis|zod|@opentelemetry\/api|node:.*)$/ },
  { name: 'src/tracing', part: /^src\/tracing\//, may: /^src\/(config|core|tracing)\//, packages: /^(@opentelemetry\/.*|node:.*)$/ },
  { name: 'src/service-clients', part: /^src\/service-clients\//, may: /^(src\/(contracts|core|service-clients)\/|services\.config\.ts$)/, packages: /^(got|node:.*)$/ },
  { name: 'tasks', part: /^tasks\//, may: /^(src\/(contracts|core|service-clients|producer)\/|tasks\/)/, packages: /^(zod|got|node:.*)$/ },
  { name: 'src/beat', part: /^src\/beat\//, may: /^(src\/(contracts|core|config|producer|beat|tracing)\/|[a-z-]+(\.config)?\.ts$)/, packages: /^(bullmq|ioredis|zod|cron-parser|node:.*)$/ },
  { name: 'src/worker', part: /^src\/worker\//, may: /^(src\/(contracts|core|config|producer|service-clients|worker|tracing)\/|tasks\/|[a-z-]+\.config\.ts$)/, packages: /^(bullmq|ioredis|zod|got|node:.*)$/ },
  // Control: operations on jobs, schedules and queues that the API, the board and the CLI share. It reads
  // the schedule as beat plans it, so it may import beat (beat never imports control).
  { name: 'src/control', part: /^src\/control\//, may: /^(src\/(contracts|core|config|producer|beat|control)\/|[a-z-]+(\.config)?\.ts$)/, packages: /^(bullmq|ioredis|zod|node:.*)$/ },
  // The CLI: argument parsing and tables over src/control; no express, no Bull Board.
  { name: 'src/cli', part: /^src\/cli\//, may: /^(src\/(contracts|core|config|producer|control|cli)\/|[a-z-]+\.config\.ts$)/, packages: /^(ioredis|bullmq|zod|node:.*)$/ },
  { name: 'src/dashboard', part: /^src\/dashboard\//, may: /^(src\/(contracts|core|config|producer|control|dashboard|tracing)\/|[a-z-]+\.config\.ts$|events\.ts$)/, packages: /^(express|express-serve-static-core|@bull-board\/.*|bullmq|ioredis|prom-client|zod|node:.*)$/ },
  { name: 'src/launcher', part: /^src\/launcher\//, may: /^(src\/(core|config|launcher|tracing)\/|src\/(worker|beat|dashboard)\/run-[a-z]+\.ts$)/, packages: /^(ioredis|node:.*)$/ },
  { name: 'src/docker', part: /^src\/docker\//, may: /^$/, packages: /^node:.*$/ },
];

const tree = [...sourceFiles('src'), ...sourceFiles('tasks'), ...readdirSync(root).filter((f) => DATA.test(f) && !f.startsWith('vitest'))];

const violationsOf = (file: string, imports = importsOf(resolve(root, file))): string[] => {
  const rule = RULES.find((r) => r.part.test(file));
  if (!rule) return [`${file}: no rule covers it (add its part to RULES and STYLE.md)`];
  return [
    ...imports.files.filter((f) => !rule.may.test(f)).map((f) => `${file} (${rule.name}) imports ${f}`),
    ...imports.packages.filter((p) => !rule.packages.test(p)).map((p) => `${file} (${rule.name}) imports the package ${p}`),
  ];
};

describe("STYLE.md's import table", () => {
  it('every file imports only what its part may', () => {
    expect(tree.length).toBeGreaterThan(60);
    expect(tree.flatMap((f) => violationsOf(f))).toEqual([]);
  });

  it('only the worker imports tasks/, only the dashboard imports express and Bull Board', () => {
    const importers = (match: (i: ReturnType<typeof importsOf>) => boolean) =>
      tree.filter((f) => !f.startsWith('tasks/') && match(importsOf(resolve(root, f))));
    expect(importers((i) => i.files.some((f) => f.startsWith('tasks/'))).every((f) => f.startsWith('src/worker/'))).toBe(true);
    expect(importers((i) => i.packages.some((p) => p === 'express' || p.startsWith('@bull-board/'))).every((f) => f.startsWith('src/dashboard/'))).toBe(true);
  });

  it("only the processes' entry points start the OpenTelemetry SDK; the rest use its API alone", () => {
    const entries = /^src\/(worker|beat|dashboard)\/main\.ts$|^src\/launcher\/start\.ts$|^src\/worker\/child\/sandboxed\.ts$/;
    const importing = tree.filter((f) => !f.startsWith('src/tracing/') && importsOf(resolve(root, f)).files.some((i) => i.startsWith('src/tracing/')));
    expect(importing.filter((f) => !entries.test(f))).toEqual([]);
    expect(importing.sort()).toEqual(['src/beat/main.ts', 'src/dashboard/main.ts', 'src/launcher/start.ts', 'src/worker/child/sandboxed.ts', 'src/worker/main.ts']);
    const sdkUsers = tree.filter((f) => importsOf(resolve(root, f)).packages.some((p) => p.startsWith('@opentelemetry/') && p !== '@opentelemetry/api'));
    expect(sdkUsers.every((f) => f.startsWith('src/tracing/'))).toBe(true);
  });

  it('the check sees a violation', () => {
    expect(violationsOf('src/core/x.ts', { files: ['src/worker/dispatch.ts'], packages: ['got'] })).toEqual([
      'src/core/x.ts (src/core) imports src/worker/dispatch.ts',
      'src/core/x.ts (src/core) imports the package got',
    ]);
    expect(violationsOf('src/producer/x.ts', { files: ['tasks/index.ts'], packages: ['express'] })).toHaveLength(2);
    // events.ts is a data file: contracts and zod only.
    expect(violationsOf('events.ts', { files: ['src/core/errors.ts'], packages: ['bullmq'] })).toHaveLength(2);
    // The CLI works over src/control: not through the dashboard, and without express.
    expect(violationsOf('src/cli/x.ts', { files: ['src/dashboard/create-app.ts'], packages: ['express'] })).toHaveLength(2);
    expect(violationsOf('src/control/x.ts', { files: ['src/dashboard/auth.ts', 'src/worker/dispatch.ts'], packages: ['express'] })).toHaveLength(3);
  });
});

describe('the producer lib (task-hub/producer) stays thin', () => {
  const graph = importGraph('src/producer/index.ts');

  it('reaches only producer, core, contracts, queues.config and events.ts (it publishes)', () => {
    const outside = graph.files.filter((f) => !/^(src\/(producer|core|contracts)\/|queues\.config\.ts$|events\.ts$)/.test(f));
    expect(outside).toEqual([]);
    expect(graph.files).toContain('src/producer/create-producer.ts');
    expect(graph.files).toContain('events.ts');
  });

  it('uses no package beyond bullmq, ioredis, zod, the OpenTelemetry API (a no-op without an SDK) and node built-ins (no express, got, node-cron)', () => {
    const allowed = /^(bullmq|ioredis|zod|@opentelemetry\/api|node:.*)$/;
    expect(graph.packages.filter((p) => !allowed.test(p))).toEqual([]);
  });

  it('the check sees a violation: the worker graph does reach tasks/ and got', () => {
    const worker = importGraph('src/worker/run-worker.ts');
    expect(worker.files.some((f) => f.startsWith('tasks/'))).toBe(true);
    expect(worker.packages).toContain('got');
  });

  it('is exported as the package subpath ./producer', () => {
    const pkg = JSON.parse(readFileSync(resolve(root, 'package.json'), 'utf8')) as { exports: Record<string, { import: string; types: string }> };
    expect(pkg.exports['./producer']).toEqual({ types: './dist/src/producer/index.d.ts', import: './dist/src/producer/index.js' });
  });
});
