/** A Retry-After is honoured up to this; a longer one is taken as this (the job is deferred, not lost). */
export const MAX_RETRY_AFTER_MS = 10 * 60_000;
/** `Retry-After: 0` would turn a 429 into a tight loop. */
const MIN_RETRY_AFTER_MS = 1_000;

/** `Retry-After: 2` or an HTTP date -> ms from now, bounded; undefined when absent or unreadable. */
export const retryAfterMs = (header: string | string[] | undefined, now = Date.now()): number | undefined => {
  const value = Array.isArray(header) ? header[0] : header;
  if (!value?.trim()) return undefined;
  const seconds = /^\s*\d+(\.\d+)?\s*$/.test(value) ? Number(value) * 1_000 : Date.parse(value) - now;
  if (!Number.isFinite(seconds)) return undefined;
  return Math.min(MAX_RETRY_AFTER_MS, Math.max(MIN_RETRY_AFTER_MS, Math.ceil(seconds)));
};
