import { Writable } from 'node:stream';
import { describe, expect, it, vi } from 'vitest';
import { loadEnv } from '../src/config/env.ts';
import { ConfigError } from '../src/core/errors.ts';
import { createLogger } from '../src/core/logger.ts';
import { createRedis } from '../src/core/redis.ts';
import { runBeat } from '../src/beat/run-beat.ts';
import { createDashboardApp } from '../src/dashboard/create-app.ts';
import { createProducer } from '../src/producer/index.ts';
import { runWorker } from '../src/worker/run-worker.ts';
import { testRedisUrl } from './helpers/test-hub.ts';

// An events.ts whose subscriber names a task that does not exist (a rename the compiler was not asked about).
vi.mock('../events.ts', async () => {
  const { z } = await import('zod');
  const events = {
    'order.created': {
      description: 'broken on purpose',
      schema: z.object({ orderId: z.string() }),
      subscribers: [{ task: 'order.sendConfirmaton', map: (e: { orderId: string }) => e }],
    },
  };
  return { events, default: events };
});

const expected = /events\.ts: 1 problem:\n {2}event "order\.created", subscriber 1 \(order\.sendConfirmaton\): unknown task \(did you mean "order\.sendConfirmation"\?\)/;
const log = createLogger({ name: 't', destination: new Writable({ write: (_c, _e, done) => done() }) });
const env = () => loadEnv({ REDIS_URL: testRedisUrl(), HUB_PREFIX: 'never-used', NODE_ENV: 'test' });

describe('every role refuses to start on a broken events.ts, naming event and subscriber', () => {
  it('a producer', () => {
    expect(() => createProducer({ redisUrl: testRedisUrl(), service: 'checkout' })).toThrow(expected);
    expect(() => createProducer({ redisUrl: testRedisUrl(), service: 'checkout' })).toThrow(ConfigError);
  });

  it('the worker', async () => {
    await expect(runWorker(env(), log)).rejects.toThrow(expected);
  });

  it('beat', async () => {
    await expect(runBeat(env(), log, { once: true })).rejects.toThrow(expected);
  });

  it('the dashboard', () => {
    const connection = createRedis(testRedisUrl(), 'producer');
    try {
      expect(() => createDashboardApp({ connection, prefix: 'never-used', accounts: [], clients: [], log, processMetrics: false })).toThrow(expected);
    } finally {
      connection.disconnect();
    }
  });
});
