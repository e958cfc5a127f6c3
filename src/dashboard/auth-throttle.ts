import { isIPv6 } from 'node:net';
import type { Request, Response } from 'express';
import type { Logger } from '../core/logger.ts';
import { sendError } from './send-error.ts';

export interface ThrottleOptions {
  /** Failed logins or tokens allowed per window, per address and per account. */
  maxFailures?: number;
  windowMs?: number;
  /** Addresses (and accounts) tracked at most; the oldest windows go first beyond it. */
  maxEntries?: number;
  now?: () => number;
}

export interface AuthThrottle {
  /**
   * Seconds this address must wait before it may present credentials again, 0 when it may now.
   * An address over its limit waits; an address that failed at all waits while the account it
   * names is over the account's limit. An address that has not failed is never held back, so
   * guesses from elsewhere cannot lock the real user out.
   */
  retryAfter(address: string, account?: string): number;
  /** A wrong password or token from this address (naming this account, when it is one). */
  failed(address: string, account?: string): void;
}

interface Window {
  failures: number;
  endsAt: number;
}

const hextets = (ip: string): string[] => {
  const [head = '', tail] = ip.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  return [...left, ...Array<string>(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right];
};

/**
 * What one client is: an IPv4 address (also when mapped into IPv6), or an IPv6 /64, since
 * one host commonly holds a whole /64 and could otherwise rotate through it.
 */
export const clientOf = (address: string): string => {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return mapped[1]!;
  if (!isIPv6(address)) return address;
  return `${hextets(address.split('%')[0]!.toLowerCase()).slice(0, 4).map((h) => h.replace(/^0+(?=.)/, '')).join(':')}::/64`;
};

/**
 * Failure counts in fixed windows, in this process's memory: per dashboard replica, so a guess
 * costs no Redis round trip and a Redis outage can never lock anyone out. N replicas allow N
 * times the guesses, which changes nothing against 24-character tokens and 12+-character
 * passwords.
 */
export const createAuthThrottle = ({ maxFailures = 10, windowMs = 60_000, maxEntries = 10_000, now = Date.now }: ThrottleOptions = {}): AuthThrottle => {
  const addresses = new Map<string, Window>();
  const accounts = new Map<string, Window>();

  const live = (map: Map<string, Window>, key: string): Window | undefined => {
    const w = map.get(key);
    return w && w.endsAt > now() ? w : undefined;
  };
  // Windows all last windowMs and are re-inserted when renewed, so the Map's order is their end order.
  const prune = (map: Map<string, Window>) => {
    const t = now();
    for (const [key, w] of map) {
      if (w.endsAt > t && map.size <= maxEntries) break;
      map.delete(key);
    }
  };
  const count = (map: Map<string, Window>, key: string) => {
    let w = live(map, key);
    if (!w) {
      map.delete(key);
      map.set(key, (w = { failures: 0, endsAt: now() + windowMs }));
      prune(map);
    }
    w.failures++;
  };

  return {
    retryAfter(address, account) {
      const own = live(addresses, clientOf(address));
      if (!own) return 0;
      const accountHot = account !== undefined && (live(accounts, account)?.failures ?? 0) >= maxFailures;
      if (own.failures < maxFailures && !accountHot) return 0;
      return Math.max(1, Math.ceil((own.endsAt - now()) / 1_000));
    },
    failed(address, account) {
      count(addresses, clientOf(address));
      if (account !== undefined) count(accounts, account);
    },
  };
};

/** Who presented credentials, for the log: the scheme, and the account when it is a real one. Never the secret. */
export interface Attempt {
  scheme: 'basic' | 'bearer';
  account?: string;
}

export interface AuthGuard {
  /** False after answering 429 with Retry-After: this address may not present credentials now. */
  admits(req: Request, res: Response, attempt: Attempt): boolean;
  /** Counts and logs a wrong password or token. */
  failed(req: Request, attempt: Attempt): void;
}

const addressOf = (req: Request): string => req.ip ?? req.socket.remoteAddress ?? 'unknown';

export const createAuthGuard = (log: Logger, options: ThrottleOptions = {}): AuthGuard => {
  const throttle = createAuthThrottle(options);
  return {
    admits(req, res, attempt) {
      const address = addressOf(req);
      const seconds = throttle.retryAfter(address, attempt.account);
      if (!seconds) return true;
      log.warn({ address, ...attempt, retryAfterSeconds: seconds }, 'auth: refused, too many failures');
      res.set('Retry-After', String(seconds));
      sendError(res, 429, 'too_many_attempts', `too many failed logins from this address; retry in ${seconds} s`);
      return false;
    },
    failed(req, attempt) {
      const address = addressOf(req);
      throttle.failed(address, attempt.account);
      log.warn({ address, ...attempt }, attempt.scheme === 'basic' ? 'auth: refused, wrong user or password' : 'auth: refused, unknown token');
    },
  };
};
