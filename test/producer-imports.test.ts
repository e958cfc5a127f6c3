import { existsSync, readFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '..');

/** Every module the file reaches through static and dynamic imports: [local files, packages]. */
const importGraph = (entry: string) => {
  const files = new Set<string>();
  const packages = new Set<string>();
  const visit = (file: string) => {
    if (files.has(file)) return;
    files.add(file);
    const { importedFiles } = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
    for (const { fileName } of importedFiles) {
      if (fileName.startsWith('.')) {
        const target = resolve(dirname(file), fileName);
        if (!existsSync(target)) throw new Error(`${relative(root, file)} imports missing ${fileName}`);
        visit(target);
      } else {
        packages.add(fileName.startsWith('@') ? fileName.split('/').slice(0, 2).join('/') : fileName.split('/')[0]!);
      }
    }
  };
  visit(resolve(root, entry));
  return { files: [...files].map((f) => relative(root, f)).sort(), packages: [...packages].sort() };
};

describe('the producer lib (task-hub/producer) stays thin', () => {
  const graph = importGraph('src/producer/index.ts');

  it('reaches only producer, core, contracts and queues.config', () => {
    const outside = graph.files.filter((f) => !/^(src\/(producer|core|contracts)\/|queues\.config\.ts$)/.test(f));
    expect(outside).toEqual([]);
    expect(graph.files).toContain('src/producer/create-producer.ts');
  });

  it('uses no package beyond bullmq, ioredis, zod and node built-ins (no express, got, node-cron)', () => {
    const allowed = /^(bullmq|ioredis|zod|node:.*)$/;
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
