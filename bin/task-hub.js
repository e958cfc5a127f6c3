#!/usr/bin/env node
// `npx task-hub ...` in a checkout runs the TypeScript source through tsx; the Docker image (no
// src/, no tsx) runs the compiled dist/. Both are the same src/cli/main.ts.
import { existsSync } from 'node:fs';

const source = new URL('../src/cli/main.ts', import.meta.url);
const compiled = new URL('../dist/src/cli/main.js', import.meta.url);

const tsx = async () => {
  try {
    return await import('tsx/esm/api');
  } catch {
    return undefined;
  }
};

const loader = existsSync(source) ? await tsx() : undefined;
if (loader) {
  loader.register();
  await import(source.href);
} else if (existsSync(compiled)) {
  await import(compiled.href);
} else {
  process.stderr.write('task-hub: neither src/cli/main.ts (with tsx) nor dist/src/cli/main.js is here; run npm run build\n');
  process.exitCode = 1;
}
