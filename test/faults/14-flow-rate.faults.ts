import { expect, it } from 'vitest';
import { StubService } from '../helpers/stub-service.ts';
import { flow } from '../flow/flow-tasks.ts';
import { maxInWindow, utilisation } from '../flow/windows.ts';
import { account, addRaw, report, useFaultWorld } from './harness.ts';

const world = useFaultWorld();

it('14. 600 calls from 3 workers x 20 to a service limited to 20/s: never more than 20 in a second, >= 90% of it used', async () => {
  const redis = await world.startRedis();
  const prefix = 'f14';
  const pricing = await StubService.start();
  pricing.reply('GET', '/flow/call/:n', { status: 200, body: { ok: true } });
  const env = { HUB_QUEUES: 'order', PRICING_API_URL: pricing.url, PRICING_API_RATE_LIMIT: '20/1000' };
  const workers = [0, 1, 2].map(() => world.spawn('test/flow/flow-worker.ts', prefix, env));
  await Promise.all(workers.map((w) => w.waitForLine(/"worker ready"/)));
  const client = world.client();
  const accepted = new Set(await addRaw(client, prefix, flow.call, Array.from({ length: 600 }, (_, n) => ({ n }))));
  const result = await account({ redis: client, prefix, queue: 'order', accepted, processes: world.processes, service: world.service, settleMs: 120_000 });
  const at = pricing.requests.map((r) => r.at).sort((a, b) => a - b);
  await pricing.close();
  const most = maxInWindow(at, 1_000);
  const used = utilisation(at, { max: 20, perMs: 1_000 });
  const { ok } = report({
    name: '14 flow: 600 calls, 3 workers x 20, limit 20/s',
    ...result,
    inFlightAtFault: 0,
    note: `at most ${most} calls in any 1 s at the service; ${(used * 20).toFixed(1)} calls/s = ${(used * 100).toFixed(1)}% of the limit over ${((at.at(-1)! - at[0]!) / 1_000).toFixed(1)} s`,
  });
  expect(ok).toBe(true);
  expect(at).toHaveLength(600);
  expect(most).toBeLessThanOrEqual(20);
  expect(used).toBeGreaterThanOrEqual(0.9);
  void redis;
});
