import { z } from 'zod';
import { product } from '../src/contracts/index.ts';
import { PermanentError } from '../src/core/errors.ts';
import { classifyHttpError } from '../src/http/classify.ts';
import { batchProgress, forEachLimit } from './batch.ts';
import { handle } from './context.ts';
import { variantsOf } from './image-variants.ts';
import { readJson } from './read-json.ts';

const Images = z.object({
  images: z.array(z.object({ id: z.string(), url: z.url(), width: z.int().positive(), height: z.int().positive() })),
});

/** Raised while retryable parts of a batch remain: BullMQ retries, and the retry skips finished parts. */
export class BatchIncompleteError extends Error {
  override name = 'BatchIncompleteError';
}

export default [
  handle(product.processImages, async ({ productId, imageIds }, { http, signal, enqueue }) => {
    const { images } = await readJson(http.product.get(`api/products/${productId}/images`, { signal }), Images);
    const wanted = imageIds ? images.filter((i) => imageIds.includes(i.id)) : images;
    const missing = imageIds?.filter((id) => !images.some((i) => i.id === id)) ?? [];
    if (missing.length) throw new PermanentError(`product ${productId} has no image(s) ${missing.join(', ')}`);
    const processed = wanted.map((image) => ({ imageId: image.id, variants: variantsOf(image) }));
    await http.product.post(`api/products/${productId}/images/processed`, { json: { images: processed }, signal });
    await enqueue('product.reindex', { productIds: [productId] }, { dedup: { id: productId } });
    return { images: processed.length };
  }),

  handle(product.reindex, async ({ productIds }, { http, signal }) => {
    const request = http.product.post('api/products/reindex', { json: { productIds: productIds ?? 'all' }, signal });
    return readJson(request, z.object({ indexed: z.int().min(0) }));
  }),

  handle(product.syncPrices, async ({ productIds, regions }, ctx) => {
    const progress = batchProgress(ctx);
    const failed = new Map<string, { region: string; error: string; permanent: boolean }[]>();
    await forEachLimit(productIds, 4, async (productId) => {
      for (const region of regions) {
        const part = `${productId}/${region}`;
        if (progress.has(part)) continue;
        try {
          await ctx.http.product.post(`api/products/${productId}/prices/${region}/sync`, { signal: ctx.signal });
          progress.markDone(part);
        } catch (err) {
          if (ctx.signal.aborted) throw err;
          const classified = classifyHttpError(err);
          const entry = { region, error: (err as Error).message, permanent: classified instanceof PermanentError };
          failed.set(productId, [...(failed.get(productId) ?? []), entry]);
        }
      }
    });
    await progress.save();
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
