import type { NextFunction, Request, Response } from 'express';
import type { z } from 'zod';
import { EnqueueError, PayloadTooLargeError } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';

export interface FieldProblem {
  path: string;
  message: string;
}

export const sendError = (res: Response, status: number, code: string, message: string, extra: object = {}) =>
  res.status(status).json({ error: { code, message, ...extra } });

/** Zod issues -> one entry per offending field (`items.0.id`), unknown keys each named. */
export const fieldsOf = (error: z.ZodError): FieldProblem[] =>
  error.issues.flatMap((issue) => {
    const base = issue.path.map(String).join('.');
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((k) => ({ path: base ? `${base}.${k}` : k, message: 'unknown field' }));
    }
    return [{ path: base || '(payload)', message: issue.message }];
  });

const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/** The path of the first key that could pollute prototypes in code that merges the payload. */
export const forbiddenKeyIn = (value: unknown, path = '', depth = 0): string | undefined => {
  if (typeof value !== 'object' || value === null || depth > 64) return undefined;
  for (const key of Object.keys(value)) {
    const here = path ? `${path}.${key}` : key;
    if (FORBIDDEN_KEYS.has(key)) return here;
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
    return res.set('Retry-After', '5').status(503).json({ error: { code: 'unavailable', message: 'the hub cannot reach Redis; retry later' } });
  }
  if (typeof e.status === 'number' && e.status >= 400 && e.status < 500) return sendError(res, e.status, 'bad_request', e.message);
  log.error({ path: req.path, err: e.message, stack: e.stack }, 'api: unexpected error');
  return sendError(res, 500, 'internal', 'internal error');
};
