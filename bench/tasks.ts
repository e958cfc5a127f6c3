import { z } from 'zod';
import { catalog, domain, order, task } from '../src/contracts/index.ts';
import { buildRegistry, type Registry } from '../src/worker/registry.ts';
import { handle } from '../tasks/context.ts';
import { handlers } from '../tasks/index.ts';

/**
 * Bench-only tasks, registered beside the real catalog through buildRegistry's contracts
 * argument (as test/retries.test.ts does), never added to src/contracts.
 */
export const bench = domain('order', {
  benchNoop: task({ description: 'bench only: does nothing', schema: z.strictObject({ n: z.int() }), timeoutMs: 30_000 }),
  benchHttp: task({ description: 'bench only: one call to a stub service', schema: z.strictObject({ n: z.int() }), timeoutMs: 30_000 }),
  benchPricing: task({ description: 'bench only: one call to the pricing service (limited or not)', schema: z.strictObject({ n: z.int() }), timeoutMs: 30_000 }),
});

/**
 * A no-op on three more queues beside order (benchNoop's), for the cluster rows: queues spread
 * over shards. Not cart: its fleet-wide rate limit (50/s) would set the pace.
 */
export const benchSpread = domain('order', {
  benchNoopAuth: task({ description: 'bench only: does nothing', schema: z.strictObject({ n: z.int() }), queue: 'auth', timeoutMs: 30_000 }),
  benchNoopProduct: task({ description: 'bench only: does nothing', schema: z.strictObject({ n: z.int() }), queue: 'product', timeoutMs: 30_000 }),
  benchNoopImages: task({ description: 'bench only: does nothing', schema: z.strictObject({ n: z.int() }), queue: 'product-images', timeoutMs: 30_000 }),
});

export const BENCH_HTTP_PATH = 'bench/echo';

/**
 * The worker's registry for the bench: the real handlers, the two bench tasks, and, for the
 * latency figure (which enqueues through the producer, so needs a catalog task), a no-op
 * stand-in for order.generateInvoice so the figure measures the queue path, not HTTP.
 */
export const benchRegistry = (): Registry =>
  buildRegistry(
    [
      ...handlers.filter((h) => h.contract !== order.generateInvoice),
      handle(order.generateInvoice, async () => ({ invoiceId: 'bench' })),
      handle(bench.benchNoop, async () => undefined),
      handle(bench.benchHttp, async ({ n }, { http, signal }) => http.order.post(BENCH_HTTP_PATH, { json: { n }, signal }).json()),
      ...Object.values(benchSpread).map((contract) => handle(contract, async () => undefined)),
      handle(bench.benchPricing, async ({ n }, { http, signal }) => http.pricing.post(BENCH_HTTP_PATH, { json: { n }, signal }).json()),
    ],
    {
      ...catalog,
      [bench.benchNoop.name]: bench.benchNoop,
      [bench.benchHttp.name]: bench.benchHttp,
      [bench.benchPricing.name]: bench.benchPricing,
      ...Object.fromEntries(Object.values(benchSpread).map((c) => [c.name, c])),
    },
  );
