import { Redis, type RedisOptions } from 'ioredis';
import { redactUrl } from './redact.ts';

export type RedisRole = 'worker' | 'producer';

/**
 * Workers block and must ride out Redis restarts (BullMQ requires maxRetriesPerRequest: null).
 * Producers sit in request handlers: fail fast instead of queueing commands while offline.
 */
const optionsFor = (role: RedisRole): RedisOptions =>
  role === 'worker'
    ? { maxRetriesPerRequest: null, enableReadyCheck: true }
    : { maxRetriesPerRequest: 1, enableOfflineQueue: false, connectTimeout: 3_000 };

export interface CreateRedisOptions extends RedisOptions {
  /** Connection errors arrive as events; ioredis prints unhandled ones (with the URL) otherwise. */
  onError?: (message: string) => void;
}

export const createRedis = (url: string, role: RedisRole, { onError, ...extra }: CreateRedisOptions = {}): Redis => {
  const redis = new Redis(url, { ...optionsFor(role), ...extra });
  let last = '';
  redis.on('error', (err: Error) => {
    // One line per distinct error, not one per reconnect attempt.
    if (err.message === last) return;
    last = err.message;
    onError?.(`redis ${redactUrl(url)}: ${err.message}`);
  });
  redis.on('ready', () => (last = ''));
  return redis;
};
