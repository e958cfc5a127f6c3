import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { startRedisServer, type RedisServer } from '../src/launcher/redis-server.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    redisUrl: string;
  }
}

let server: RedisServer | undefined;
let dir: string | undefined;

/** One private redis-server for the run (or TEST_REDIS_URL); tests isolate themselves by key prefix. */
export async function setup(project: TestProject) {
  let url = process.env.TEST_REDIS_URL;
  if (!url) {
    dir = mkdtempSync(join(tmpdir(), 'task-hub-test-redis-'));
    server = await startRedisServer({ dir, appendonly: false });
    url = server.url;
  }
  project.provide('redisUrl', url);
}

export async function teardown() {
  await server?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
}
