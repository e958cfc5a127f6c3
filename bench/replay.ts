/**
 * Replay rate (issue 14): `n` failed jobs moved back to wait, the hub's replay (filter read,
 * one claim and one BullMQ retry per job, in batches) against BullMQ's own `queue.retryJobs`
 * (every failed job, 1,000 per script call, no filter). No worker runs meanwhile. A
 * `redis-cli --latency` process pings Redis every 10 ms throughout: the longest wait is the
 * longest Redis was blocked.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createControl } from '../src/control/control.ts';
import { replay } from '../src/control/replay.ts';
import { createRedis } from '../src/core/redis.ts';
import { deletePrefix, fill, jobsFor, queueOn } from './redis-util.ts';
import { order } from '../src/contracts/index.ts';
import type { Env, Side } from './scenarios.ts';

/**
 * Turns the waiting jobs into failed ones as a worker would leave them (finish time, reason,
 * attempts, the hub's failure record), 1,000 per script call. Bench only: the job keys are
 * built inside the script (one queue: one hash slot).
 */
const FAIL_ALL = `local n = 0
local now = tonumber(ARGV[2])
for i = 1, tonumber(ARGV[3]) do
  local id = redis.call('RPOP', KEYS[1])
  if not id then break end
  redis.call('HSET', ARGV[1] .. id, 'finishedOn', now, 'processedOn', now, 'failedReason', 'Response code 404 (Not Found)', 'atm', 1, 'hubFail', 'permanent:404')
  redis.call('ZADD', KEYS[2], now, id)
  n = n + 1
end
return n`;

const latencyProbe = (redisUrl: string) => {
  const url = new URL(redisUrl);
  let running = true;
  let maxMs = 0;
  const loop = (async () => {
    while (running) {
      const args = ['-h', url.hostname, '-p', url.port || '6379', '--latency', '--csv', '-i', '1'];
      if (url.password) args.push('-a', decodeURIComponent(url.password), '--no-auth-warning');
      const run = spawn('redis-cli', args, { stdio: ['ignore', 'pipe', 'ignore'] });
      let out = '';
      run.stdout.on('data', (d: Buffer) => (out += d.toString()));
      await once(run, 'exit');
      const max = Number(out.trim().split(',')[1]);
      if (Number.isFinite(max)) maxMs = Math.max(maxMs, max);
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return maxMs;
    },
  };
};

export const replayRate = async (env: Env, side: Side, n: number): Promise<{ rate: number; maxBlockMs: number }> => {
  const prefix = env.nextPrefix(side);
  const connection = createRedis(env.redisUrl, 'producer');
  await once(connection, 'ready');
  const queue = queueOn(connection, prefix);
  try {
    await fill(queue, jobsFor(side, order.generateInvoice, n));
    const script = { keys: [queue.keys.wait!, queue.keys.failed!], base: queue.keys['']! };
    while ((await connection.eval(FAIL_ALL, 2, ...script.keys, script.base, Date.now() - 1_000, 1_000)) as number);
    const probe = latencyProbe(env.redisUrl);
    const started = performance.now();
    if (side === 'hub') {
      const control = createControl({ connection, prefix, queues: new Map([['order', queue]]) });
      const r = await replay(control, { task: 'order.generateInvoice' }, { who: 'bench', sampleSize: 0 });
      if (r.retried !== n) throw new Error(`replayed ${r.retried} of ${n}`);
    } else {
      await queue.retryJobs({ state: 'failed', count: 1_000 });
    }
    const seconds = (performance.now() - started) / 1_000;
    const maxBlockMs = await probe.stop();
    const waiting = await queue.getWaitingCount();
    if (waiting !== n) throw new Error(`${waiting} of ${n} jobs waiting after the replay`);
    return { rate: n / seconds, maxBlockMs };
  } finally {
    await queue.close();
    await deletePrefix(connection, prefix);
    connection.disconnect();
  }
};
