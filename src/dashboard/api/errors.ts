import type { NextFunction, Request, Response } from 'express';
import { EnqueueError, PayloadTooLargeError } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';
import { clip } from '../../core/validate.ts';
import { sendError } from '../send-error.ts';

const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/** The path (each key clipped) of the first key that could pollute prototypes in code that merges the payload. */
export const forbiddenKeyIn = (value: unknown, path = '', depth = 0): string | undefined => {
  if (typeof value !== 'object' || value === null || depth > 64) return undefined;
  for (const key of Object.keys(value)) {
    const here = path ? `${path}.${clip(key)}` : clip(key);
    // The tail names the key; a path of 64 long keys keeps its last 300 characters.
    if (FORBIDDEN_KEYS.has(key)) return here.length > 300 ? `…${here.slice(-300)}` : here;
    const found = forbiddenKeyIn((value as Record<string, unknown>)[key], here, depth + 1);
    if (found) return found;
  }
  return undefined;
};

/** Last in the API's chain: body-parser errors keep their status; Redis trouble is 503; the rest 500. */
export const apiErrorHandler = (log: Logger) => (err: unknown, req: Request, res: Response, _next: NextFunction) => {
  const e = err as Error & { type?: string; status?: number; limit?: number };
  if (e.type === 'entity.too.large' || err instanceof PayloadTooLargeError) {
    return sendError(res, 413, 'payload_too_large', err instanceof PayloadTooLargeError ? e.message : `the body is over ${e.limit} bytes; pass a reference (an id or a URL), not the data`);
  }
  if (e.type === 'entity.parse.failed') return sendError(res, 400, 'invalid_json', 'the body is not valid JSON');
  if (e.type === 'encoding.unsupported' || e.type === 'charset.unsupported') return sendError(res, 415, 'unsupported_media_type', e.message);
  if (err instanceof EnqueueError) {
    log.warn({ path: req.path, err: e.message }, 'api: Redis unavailable');
    res.set('Retry-After', '5');
    return sendError(res, 503, 'unavailable', 'the hub cannot reach Redis; retry later');
  }
  if (typeof e.status === 'number' && e.status >= 400 && e.status < 500) return sendError(res, e.status, 'bad_request', e.message);
  log.error({ path: req.path, err: e.message, stack: e.stack }, 'api: unexpected error');
  return sendError(res, 500, 'internal', 'internal error');
};
