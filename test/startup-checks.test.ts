import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { catalog, domain, task } from '../src/contracts/index.ts';
import { createLogger } from '../src/core/logger.ts';
import { startRedisServer, type RedisServer } from '../src/launcher/redis-server.ts';
import { checkEvictionPolicy } from '../src/core/redis-policy.ts';
import { buildRegistry } from '../src/worker/registry.ts';
import { handle } from '../tasks/context.ts';
import { handlers } from '../tasks/index.ts';
import { Writable } from 'node:stream';

describe('the registry matches the contracts', () => {
  it('covers every contract exactly once', () => {
    expect([...buildRegistry(handlers).keys()].sort()).toEqual(Object.keys(catalog).sort());
  });

  it('refuses a contract without a handler, naming it', () => {
    expect(() => buildRegistry(handlers.filter((h) => h.contract.name !== 'order.generateInvoice'))).toThrow(
      'no handler for order.generateInvoice: add one in tasks/<domain>.ts',
    );
  });

  it('refuses two handlers for one task, and a queue queues.config.ts does not declare', () => {
    expect(() => buildRegistry([...handlers, handlers[0]!])).toThrow(/two handlers for auth\./);
    const stray = domain('shipping', { label: task({ description: 't', schema: z.object({}), timeoutMs: 1 }) });
    expect(() => buildRegistry([...handlers, handle(stray.label, async () => 1)], { ...catalog, 'shipping.label': stray.label })).toThrow(
      'queue "shipping" is not declared in queues.config.ts',
    );
  });
});

describe('Redis eviction policy', () => {
  let server: RedisServer;
  let dir: string;
  let redis: Redis;
  const lines: string[] = [];
  const log = createLogger({ name: 't', destination: new Writable({ write: (c, _e, d) => (lines.push(c.toString()), d()) }) });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'hub-evict-'));
    server = await startRedisServer({ dir, appendonly: false, maxmemoryPolicy: 'allkeys-lru' });
    redis = new Redis(server.url);
  });
  afterAll(async () => {
    redis.disconnect();
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses an evicting Redis in production', async () => {
    await expect(checkEvictionPolicy(redis, log, true)).rejects.toThrow(
      'Redis maxmemory-policy is "allkeys-lru": Redis may evict queued jobs. Set maxmemory-policy noeviction.',
    );
  });

  it('warns loudly elsewhere, and is quiet on noeviction', async () => {
    await checkEvictionPolicy(redis, log, false);
    expect(lines.join('')).toContain('"level":"warn"');
    expect(lines.join('')).toContain('allkeys-lru');
    lines.length = 0;
    await redis.config('SET', 'maxmemory-policy', 'noeviction');
    await checkEvictionPolicy(redis, log, true);
    expect(lines).toEqual([]);
  });
});
