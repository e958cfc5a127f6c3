import { z } from 'zod';
import { domain, task } from './task.ts';

export const REGIONS = ['eu', 'us', 'uk', 'apac'] as const;

export const product = domain('product', {
  processImages: task({
    description: 'Compute the thumbnail/medium/large variants of a product\'s images and report them back.',
    schema: z.strictObject({ productId: z.uuid(), imageIds: z.array(z.uuid()).min(1).max(50).optional() }),
    keys: ['productId'],
    queue: 'product-images',
    retry: { attempts: 3, backoff: { type: 'exponential', delay: 5_000, jitter: 0.25 } },
    timeoutMs: 120_000,
  }),
  reindex: task({
    description: 'Rebuild the search index entries of the given products, or of every product when none are given.',
    schema: z.strictObject({ productIds: z.array(z.uuid()).min(1).max(1_000).optional() }),
    timeoutMs: 300_000,
  }),
  syncPrices: task({
    description:
      'Fetch the list price of each product x region from the pricing API (40 calls a minute for the whole fleet) and store it in the product service. A product is done when all its regions synced; a retry runs only what is not done.',
    schema: z.strictObject({
      productIds: z.array(z.uuid()).min(1).max(500),
      regions: z.array(z.enum(REGIONS)).min(1).max(REGIONS.length),
    }),
    retry: { attempts: 4, backoff: { type: 'exponential', delay: 2_000, jitter: 0.25 } },
    timeoutMs: 300_000,
  }),
});
