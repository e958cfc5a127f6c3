import { z } from 'zod';
import { product } from '../src/contracts/index.ts';
import { PermanentError } from '../src/core/errors.ts';
import { backPressureOf } from '../src/core/flow/back-pressure.ts';
import { classifyHttpError } from '../src/service-clients/classify.ts';
import { batchProgress, forEachLimit } from './batch.ts';
import { handle } from './context.ts';
import { variantsOf } from './image-variants.ts';
import { readJson } from './read-json.ts';

// Module-level schemas: zod compiles a schema on its first parse, so one built per call costs a compile per job.
const Indexed = z.object({ indexed: z.int().min(0) });
const Price = z.object({ amount: z.number().nonnegative(), currency: z.string().regex(/^[A-Z]{3}$/) });
const Images = z.object({
  images: z.array(z.object({ id: z.string(), url: z.url(), width: z.int().positive(), height: z.int().positive() })),
});

/** Raised while retryable parts of a batch remain: BullMQ retries, and the retry skips finished parts. */
export class BatchIncompleteError extends Error {
  override name = 'BatchIncompleteError';
}

export default [
  handle(product.processImages, async ({ productId, imageIds }, { http, enqueue }) => {
    const { images } = await readJson(http.product.get(`api/products/${productId}/images`), Images);
    const wanted = imageIds ? images.filter((i) => imageIds.includes(i.id)) : images;
    const missing = imageIds?.filter((id) => !images.some((i) => i.id === id)) ?? [];
    if (missing.length) throw new PermanentError(`product ${productId} has no image(s) ${missing.join(', ')}`);
    const processed = wanted.map((image) => ({ imageId: image.id, variants: variantsOf(image) }));
    await http.product.post(`api/products/${productId}/images/processed`, { json: { images: processed } });
    await enqueue('product.reindex', { productIds: [productId] }, { dedup: { id: productId } });
    return { images: processed.length };
  }),

  handle(product.reindex, async ({ productIds }, { http }) => {
    const request = http.product.post('api/products/reindex', { json: { productIds: productIds ?? 'all' } });
    return readJson(request, Indexed);
  }),

  handle(product.syncPrices, async ({ productIds, regions }, ctx) => {
    const progress = batchProgress(ctx);
    const failed = new Map<string, { region: string; error: string; permanent: boolean }[]>();
    // The pricing API's limit (services.config.ts) may ask the job to come back later: the lanes
    // stop, what is done is saved, and the job resumes there without spending an attempt.
    let deferred: unknown;
    await forEachLimit(productIds, 4, async (productId) => {
      for (const region of regions) {
        const part = `${productId}/${region}`;
        if (progress.has(part) || deferred) continue;
        try {
          const price = await readJson(ctx.http.pricing.get(`v1/prices/${productId}/${region}`), Price);
          await ctx.http.product.put(`api/products/${productId}/prices/${region}`, { json: price });
          progress.markDone(part);
        } catch (err) {
          if (ctx.signal.aborted) throw err;
          if (backPressureOf(err)) {
            deferred ??= err;
            continue;
          }
          const classified = classifyHttpError(err);
          const entry = { region, error: (err as Error).message, permanent: classified instanceof PermanentError };
          failed.set(productId, [...(failed.get(productId) ?? []), entry]);
        }
      }
    });
    await progress.save();
    if (deferred) throw deferred;
    const succeeded = productIds.filter((id) => regions.every((r) => progress.has(`${id}/${r}`)));
    const failures = [...failed].map(([productId, errors]) => ({ productId, errors }));
    const retryable = failures.some((f) => f.errors.some((e) => !e.permanent));
    if (retryable && ctx.job.attempt < ctx.job.maxAttempts) {
      const list = failures.map((f) => `${f.productId} (${f.errors.map((e) => e.region).join(', ')})`).join('; ');
      throw new BatchIncompleteError(`${failures.length} of ${productIds.length} products not synced yet: ${list}`);
    }
    // Final answer: what synced and what did not, with the reasons; nothing is reported done that was not.
    return { succeeded, failed: failures };
  }),
];
