import { z } from 'zod';
import { catalog, catalogOf, domain, task } from '../../src/contracts/index.ts';
import { buildRegistry } from '../../src/worker/registry.ts';
import { handle } from '../../tasks/context.ts';
import { handlers } from '../../tasks/index.ts';

/** Test-only tasks on the order queue (20 at a time per worker), registered beside the real catalog. */
export const flow = domain('flowtest', {
  call: task({ description: 'One call to the pricing service.', schema: z.strictObject({ n: z.int() }), queue: 'order', timeoutMs: 30_000 }),
  keyed: task({
    description: 'One call per job, one job per key at a time.',
    schema: z.strictObject({ key: z.string(), seq: z.int() }),
    queue: 'order',
    timeoutMs: 30_000,
    concurrencyKey: (p) => p.key,
  }),
  lease: task({ description: 'One call while holding a proxies item.', schema: z.strictObject({ n: z.int() }), queue: 'order', timeoutMs: 30_000 }),
});

export const flowHandlers = [
  handle(flow.call, async ({ n }, { http, signal }) => http.pricing.get(`flow/call/${n}`, { signal }).json()),
  handle(flow.keyed, async ({ key, seq }, { http, signal }) => http.order.post(`flow/keyed/${key}/${seq}`, { signal }).json()),
  handle(flow.lease, async ({ n }, ctx) =>
    ctx.lease('proxies', (item) => ctx.http.order.post(`flow/leased/${encodeURIComponent(item)}/${n}`, { signal: ctx.signal }).json()),
  ),
];

/** Contracts a worker must refuse at start (FLOW_TEST_BAD picks one). */
const bad = {
  perKey: domain('flowbad', {
    zeroPerKey: task({ description: 'perKey 0', schema: z.strictObject({ id: z.uuid() }), queue: 'order', timeoutMs: 1_000, concurrencyKey: (p) => p.id, perKey: 0 }),
  }),
  keyFn: domain('flowbad', {
    numberKey: task({
      description: 'a key function that returns a number',
      schema: z.strictObject({ count: z.int() }),
      queue: 'order',
      timeoutMs: 1_000,
      concurrencyKey: (p) => p.count as unknown as string,
    }),
  }),
};

export const flowRegistry = (which?: string) => {
  const extra = which === 'perKey' || which === 'keyFn' ? bad[which] : undefined;
  const extraHandlers = extra ? Object.values(extra).map((c) => handle(c, async () => undefined)) : [];
  return buildRegistry([...handlers, ...flowHandlers, ...extraHandlers], { ...catalog, ...catalogOf(flow), ...(extra ? catalogOf(extra) : {}) });
};
