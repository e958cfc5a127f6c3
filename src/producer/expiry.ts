import type { AnyContract } from '../contracts/index.ts';
import { InvalidOptionError } from '../core/errors.ts';
import type { EnqueueOptions } from './types.ts';

const iso = (epochMs: number) => new Date(epochMs).toISOString();

/**
 * The epoch ms a job must have started by, stored as `$hub.expiresAt`: the caller's `expiresAt` or
 * `expiresInMs` (from now), else the contract's `expiresAfterMs` counted from when the job is due
 * (now, or when its delay ends). An expiry that has passed, or that ends before the delay does, is
 * refused: the job could never run. Called only when one of the three is set.
 */
export const expiryFor = (contract: AnyContract, opts: EnqueueOptions, now = Date.now()): number | undefined => {
  const { expiresAt, expiresInMs, delayMs = 0 } = opts;
  if (expiresAt !== undefined && expiresInMs !== undefined) throw new InvalidOptionError('expiresAt', 'set expiresAt or expiresInMs, not both');
  let at: number;
  let field: 'expiresAt' | 'expiresInMs';
  if (expiresAt !== undefined) {
    field = 'expiresAt';
    at = expiresAt instanceof Date ? expiresAt.getTime() : expiresAt;
    if (typeof at !== 'number' || !Number.isFinite(at)) throw new InvalidOptionError(field, 'expected a Date or epoch milliseconds');
    at = Math.ceil(at);
  } else if (expiresInMs !== undefined) {
    field = 'expiresInMs';
    if (typeof expiresInMs !== 'number' || !Number.isFinite(expiresInMs) || expiresInMs <= 0) {
      throw new InvalidOptionError(field, `expected a positive number of milliseconds, got ${String(expiresInMs)}`);
    }
    at = Math.ceil(now + expiresInMs);
  } else {
    return contract.expiresAfterMs === undefined ? undefined : now + delayMs + contract.expiresAfterMs;
  }
  if (!Number.isSafeInteger(at) || at > 8.64e15) throw new InvalidOptionError(field, 'is too far in the future for a date');
  if (at <= now) throw new InvalidOptionError(field, `${iso(at)} is in the past (epoch milliseconds, not seconds)`);
  if (at <= now + delayMs) throw new InvalidOptionError(field, `${iso(at)} comes before the job's delay ends (${iso(now + delayMs)}): it could never run`);
  return at;
};
