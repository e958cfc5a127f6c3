import { z } from 'zod';
import { catalog, catalogOf, domain, task } from '../../src/contracts/index.ts';
import { buildRegistry } from '../../src/worker/registry.ts';
import { handle, type TaskContext } from '../../tasks/context.ts';
import { handlers } from '../../tasks/index.ts';

/** Test-only tasks with the behaviours real faults need; each reports its run to the counting service. */
export const fault = domain('fault', {
  work: task({ description: 'Waits `ms` on the counting service.', schema: z.strictObject({ ms: z.int().min(0).max(30_000) }), queue: 'order', timeoutMs: 30_000 }),
  poison: task({ description: 'Crashes the process running it, every time.', schema: z.strictObject({}), queue: 'order', timeoutMs: 30_000 }),
  cpu: task({ description: 'Blocks the event loop for `ms`.', schema: z.strictObject({ ms: z.int().min(0).max(60_000) }), queue: 'product', timeoutMs: 60_000 }),
  keyedLease: task({
    description: 'One job per key at a time, holding a proxies item while it waits `ms` on the counting service.',
    schema: z.strictObject({ key: z.string(), ms: z.int().min(0).max(30_000) }),
    queue: 'order',
    timeoutMs: 30_000,
    concurrencyKey: (p) => p.key,
  }),
});

/** Reports the run; the service holds its answer `ms`, so the job is visibly in flight meanwhile. */
const ran = (ctx: TaskContext, ms = 0) =>
  ctx.http.order.post(`runs/${encodeURIComponent(ctx.job.jobId)}`, { searchParams: { ms }, signal: ctx.signal });

const faultHandlers = [
  handle(fault.work, async ({ ms }, ctx) => {
    await ran(ctx, ms);
    return { waited: ms };
  }),
  handle(fault.poison, async (_input, ctx) => {
    await ran(ctx);
    // A bug outside any promise chain: Node's default is to die, taking every job in flight with it.
    setImmediate(() => {
      throw new Error('poison pill: this payload crashes its process');
    });
    return new Promise(() => {});
  }),
  handle(fault.keyedLease, async ({ ms }, ctx) => ctx.lease('proxies', async (item) => (await ran(ctx, ms), { item }))),
  handle(fault.cpu, async ({ ms }, ctx) => {
    await ran(ctx);
    const end = Date.now() + ms;
    while (Date.now() < end); // e.g. image resizing or PDF rendering in JS
    return { spunMs: ms };
  }),
];

export const faultRegistry = () => buildRegistry([...handlers, ...faultHandlers], { ...catalog, ...catalogOf(fault) });
