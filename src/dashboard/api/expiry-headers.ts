import type { Request } from 'express';
import { InvalidOptionError } from '../../core/errors.ts';

/** The producer's option names as the API's headers. */
export const EXPIRY_HEADERS: Readonly<Record<string, string>> = { expiresAt: 'X-Expires-At', expiresInMs: 'X-Expires-In-Ms' };

// RFC 3339 with its offset: a time without one would be read in the hub's zone.
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/i;

/**
 * An enqueue's expiry from its headers: `X-Expires-At` (an RFC 3339 date-time with its offset,
 * or epoch milliseconds) or `X-Expires-In-Ms` (from now). Past or malformed: InvalidOptionError
 * naming the header (the producer checks the rest: in the past, before the delay ends).
 */
export const expiryFromHeaders = (req: Request): { expiresAt?: number; expiresInMs?: number } => {
  const at = req.get('x-expires-at');
  const inMs = req.get('x-expires-in-ms');
  if (at !== undefined && inMs !== undefined) throw new InvalidOptionError('X-Expires-At', 'send X-Expires-At or X-Expires-In-Ms, not both');
  if (at !== undefined) {
    const ms = /^\d{1,16}$/.test(at) ? Number(at) : DATE_TIME.test(at) ? Date.parse(at) : NaN;
    if (!Number.isFinite(ms)) throw new InvalidOptionError('X-Expires-At', 'expected an RFC 3339 date-time with its offset (2026-03-01T12:00:00Z) or epoch milliseconds');
    return { expiresAt: ms };
  }
  if (inMs !== undefined) {
    if (!/^\d{1,12}$/.test(inMs) || Number(inMs) === 0) throw new InvalidOptionError('X-Expires-In-Ms', 'expected a positive whole number of milliseconds');
    return { expiresInMs: Number(inMs) };
  }
  return {};
};
