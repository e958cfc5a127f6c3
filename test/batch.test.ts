import { randomUUID } from 'node:crypto';
import { beforeEach, describe, expect, it } from 'vitest';
import { useTestHub } from './helpers/test-hub.ts';

const hub = useTestHub();

describe('product.syncPrices: honest partial results', () => {
  beforeEach(() => {
    hub.services.pricing.fallback = { status: 200, body: { amount: 19.9, currency: 'EUR' } };
  });

  it('fetches each price from the pricing API and stores it in the product service', async () => {
    const id = randomUUID();
    hub.services.pricing.reply('GET', `/v1/prices/${id}/us`, { status: 200, body: { amount: 21.5, currency: 'USD' } });
    const job = await hub.producer.enqueue('product.syncPrices', { productIds: [id], regions: ['eu', 'us'] });
    await expect(hub.finished(job)).resolves.toEqual({ succeeded: [id], failed: [] });
    const stored = hub.services.product.calls('PUT', '/api/products/:id/prices/:region');
    expect(stored.map((r) => [r.path, r.body]).sort()).toEqual([
      [`/api/products/${id}/prices/eu`, { amount: 19.9, currency: 'EUR' }],
      [`/api/products/${id}/prices/us`, { amount: 21.5, currency: 'USD' }],
    ]);
    expect(hub.services.pricing.calls('GET', '/v1/prices/:id/:region')[0]!.headers['idempotency-key']).toBeDefined();
  });

  it('a retry re-runs only the parts not done; finished parts are never redone', async () => {
    const [a, b, c] = [randomUUID(), randomUUID(), randomUUID()];
    // b/us fails once (503), then succeeds; everything else succeeds the first time.
    hub.services.product.reply('PUT', `/api/products/${b}/prices/us`, 503, 200);
    const job = await hub.producer.enqueue('product.syncPrices', { productIds: [a, b, c], regions: ['eu', 'us'] });
    await expect(hub.finished(job)).resolves.toEqual({ succeeded: [a, b, c], failed: [] });

    const synced = hub.services.product.calls('PUT', '/api/products/:id/prices/:region').map((r) => r.path);
    const count = (path: string) => synced.filter((p) => p === path).length;
    expect(count(`/api/products/${b}/prices/us`)).toBe(2);
    for (const id of [a, b, c]) expect(count(`/api/products/${id}/prices/eu`)).toBe(1);
    expect(count(`/api/products/${a}/prices/us`)).toBe(1);
    expect(synced).toHaveLength(7);
    expect(await hub.attemptsMade(job)).toBe(2);
  });

  it('an item counts as done only when all its regions synced; the result lists what failed and why', async () => {
    const [ok, broken] = [randomUUID(), randomUUID()];
    hub.services.pricing.reply('GET', `/v1/prices/${broken}/uk`, 404);
    const job = await hub.producer.enqueue('product.syncPrices', { productIds: [ok, broken], regions: ['eu', 'uk'] });
    // A 404 will not heal: no retry is spent on it, and the job completes with the partial result.
    await expect(hub.finished(job)).resolves.toEqual({
      succeeded: [ok],
      failed: [
        {
          productId: broken,
          errors: [{ region: 'uk', permanent: true, error: `pricing service GET /v1/prices/${broken}/uk answered 404 Not Found` }],
        },
      ],
    });
    expect(await hub.attemptsMade(job)).toBe(1);
    const info = await hub.producer.getJob(job.id);
    expect(info!.progress).toEqual({ done: expect.arrayContaining([`${ok}/eu`, `${ok}/uk`, `${broken}/eu`]) });
    expect((info!.progress as { done: string[] }).done).toHaveLength(3);
  });
});
