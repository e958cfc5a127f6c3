import { randomUUID } from 'node:crypto';
import express, { type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import type { InvalidPayloadError } from '../../core/errors.ts';
import { sendError } from '../send-error.ts';
import { forbiddenKeyIn } from './errors.ts';

/**
 * What the API's keyed JSON POSTs share (`/tasks/{name}`, `/events/{name}`): media types, the
 * body, X-Request-ID and Idempotency-Key, the 503 that hands the key out, bounded field errors.
 */

/** Every media type the API reads as JSON; anything else with a body is 415. */
export const JSON_TYPES = ['application/json', 'application/*+json'];
const HEADER_VALUE = /^[\x21-\x7e]{1,200}$/;

/** Answers 415 (and returns true) when the request has a body that is not JSON; `what`: "payload", "event". */
export const refusedMediaType = (req: Request, res: Response, what: string): boolean => {
  const hasBody = Number(req.headers['content-length'] ?? 0) > 0 || req.headers['transfer-encoding'] !== undefined;
  if (!hasBody || req.is(JSON_TYPES)) return false;
  sendError(res, 415, 'unsupported_media_type', `send the ${what} as JSON: Content-Type application/json (or application/<type>+json)`);
  return true;
};

// strict: false, so a scalar body (`null`, `42`) reaches the schema and gets its reason, not invalid_json.
export const readJsonBody = (maxBodyBytes: number): RequestHandler => express.json({ limit: maxBodyBytes, strict: false, type: JSON_TYPES });

/**
 * X-Request-ID (generated when absent) and Idempotency-Key into res.locals. Every keyed POST has
 * a key: the client's, or one generated here, which a 503 hands out for the retry (`freshKey`).
 */
export const keyedHeaders = (req: Request, res: Response, next: NextFunction) => {
  const requestId = req.get('x-request-id') ?? randomUUID();
  const clientKey = req.get('idempotency-key');
  if (!HEADER_VALUE.test(requestId)) return sendError(res, 400, 'invalid_header', 'X-Request-ID: 1-200 visible ASCII characters');
  if (clientKey !== undefined && !HEADER_VALUE.test(clientKey)) return sendError(res, 400, 'invalid_header', 'Idempotency-Key: 1-200 visible ASCII characters');
  res.locals.requestId = requestId;
  res.locals.idempotencyKey = clientKey ?? randomUUID();
  res.locals.freshKey = clientKey === undefined;
  next();
};

/**
 * 503 with the key to retry with: an add Redis did not answer in time may still run when Redis
 * resumes, and the same request with that key cannot add anything twice.
 */
export const unavailable = (res: Response, maybe: string, safe: string, extra: object = {}) => {
  const idempotencyKey = res.locals.idempotencyKey as string;
  res.set('Retry-After', '5');
  sendError(
    res,
    503,
    'unavailable',
    `the hub cannot reach Redis, so ${maybe}: send the same request again after Retry-After with the header Idempotency-Key: ${idempotencyKey} (${safe})`,
    { idempotencyKey, ...extra },
  );
};

/** 400 for a body with a key that could pollute prototypes (true when it answered). */
export const refusedPolluting = (res: Response, body: unknown, code: string): boolean => {
  const polluting = forbiddenKeyIn(body);
  if (!polluting) return false;
  sendError(res, 400, code, `field "${polluting}" is not allowed`, { fields: [{ path: polluting, message: 'reserved key' }], fieldCount: 1 });
  return true;
};

/** 400 naming each invalid field (at most 20, with their count). */
export const sendInvalidFields = (res: Response, code: string, subject: string, err: InvalidPayloadError, extra: object = {}) => {
  const { fields, fieldCount } = err;
  const more = fieldCount > fields.length ? ` (and ${fieldCount - fields.length} more)` : '';
  sendError(res, 400, code, `${subject}: ${fields.map((f) => `${f.path}: ${f.message}`).join('; ')}${more}`, { ...extra, fields, fieldCount });
};
