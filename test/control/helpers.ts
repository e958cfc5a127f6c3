import { once } from 'node:events';
import { afterEach, beforeEach } from 'vitest';
import { z } from 'zod';
import { catalog, catalogOf, domain, task } from '../../src/contracts/index.ts';
import { createControl, type Control } from '../../src/control/control.ts';
import { createRedis } from '../../src/core/redis.ts';
import { buildRegistry } from '../../src/worker/registry.ts';
import { handle } from '../../tasks/context.ts';
import { handlers } from '../../tasks/index.ts';
import { testRedisUrl } from '../helpers/test-hub.ts';

/** A Control over the test hub's prefix (its own fail-fast connection, as the dashboard and the CLI have); closed after each test. */
export const useControl = (prefixOf: () => string, schedule?: readonly unknown[], beatLockMs = 2_000) => {
  const state = { control: undefined as unknown as Control, close: async () => {} };
  beforeEach(async () => {
    const connection = createRedis(testRedisUrl(), 'producer');
    await once(connection, 'ready');
    state.control = createControl({ connection, prefix: prefixOf(), schedule, beatLockMs });
    state.close = async () => {
      await state.control.close();
      connection.disconnect();
    };
  });
  afterEach(async () => state.close());
  return {
    get control() {
      return state.control;
    },
  };
};

/** A test-only task on the order queue that outlives its 100 ms timeout once: a job that fails with class `timeout`. */
export const slow = domain('ctl', {
  stall: task({
    description: 'Waits on the order service past its timeout.',
    schema: z.strictObject({ ms: z.int().min(0) }),
    queue: 'order',
    retry: { attempts: 1, backoff: { type: 'fixed', delay: 10 } },
    timeoutMs: 100,
  }),
});

export const registryWithSlowTask = () =>
  buildRegistry(
    [
      ...handlers,
      handle(slow.stall, async ({ ms }, ctx) => {
        await ctx.http.order.post('api/stall', { searchParams: { ms }, signal: ctx.signal });
        return { waited: ms };
      }),
    ],
    { ...catalog, ...catalogOf(slow) },
  );
