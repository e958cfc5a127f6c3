import { createHash, timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import type { Env } from '../config/env.ts';
import { ConfigError } from '../core/errors.ts';
import type { AuthGuard, Attempt } from './auth-throttle.ts';
import { sendError } from './send-error.ts';

export type Role = 'admin' | 'viewer';

export interface Account {
  user: string;
  password: string;
  role: Role;
}

const DEV_PASSWORD = 'admin';

/**
 * The board's accounts from env. Production refuses to start without a password; elsewhere an
 * unset password means admin/admin, so `npm run dashboard` works out of the box on a laptop.
 */
export const accountsFrom = (env: Env, warn: (message: string) => void = () => {}): Account[] => {
  const production = env.NODE_ENV === 'production';
  if (!env.DASHBOARD_PASSWORD && production) {
    throw new ConfigError('DASHBOARD_PASSWORD is required when NODE_ENV=production (and DASHBOARD_USER, default "admin")');
  }
  if (!env.DASHBOARD_PASSWORD) warn(`DASHBOARD_PASSWORD is unset: the dashboard accepts the development login ${env.DASHBOARD_USER}/${DEV_PASSWORD}`);
  const accounts: Account[] = [{ user: env.DASHBOARD_USER, password: env.DASHBOARD_PASSWORD ?? DEV_PASSWORD, role: 'admin' }];
  const { DASHBOARD_READONLY_USER: user, DASHBOARD_READONLY_PASSWORD: password } = env;
  if (Boolean(user) !== Boolean(password)) {
    throw new ConfigError('set both DASHBOARD_READONLY_USER and DASHBOARD_READONLY_PASSWORD, or neither');
  }
  if (user && password) {
    if (user === env.DASHBOARD_USER) throw new ConfigError('DASHBOARD_READONLY_USER must differ from DASHBOARD_USER');
    accounts.push({ user, password, role: 'viewer' });
  }
  if (production) refuseTrivialPasswords(accounts);
  return accounts;
};

const MIN_PASSWORD = 12;

/** What a guesser tries first. The message names the variable, never the value. */
const refuseTrivialPasswords = (accounts: readonly Account[]) => {
  for (const { user, password, role } of accounts) {
    const variable = role === 'admin' ? 'DASHBOARD_PASSWORD' : 'DASHBOARD_READONLY_PASSWORD';
    const weakness =
      password.length < MIN_PASSWORD ? `is under ${MIN_PASSWORD} characters` : password.toLowerCase() === user.toLowerCase() ? 'is the user name' : undefined;
    if (weakness) throw new ConfigError(`${variable} ${weakness}: NODE_ENV=production needs ${MIN_PASSWORD}+ characters (try: openssl rand -base64 18)`);
  }
};

/** Hashing first gives equal lengths, so timingSafeEqual never leaks a length mismatch. */
const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();
export const safeEqual = (a: string, b: string): boolean => timingSafeEqual(digest(a), digest(b));

const parseBasic = (header: string | undefined): { user: string; password: string } | undefined => {
  const match = /^Basic ([A-Za-z0-9+/=]+)$/i.exec(header?.trim() ?? '');
  if (!match) return undefined;
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon < 0 ? undefined : { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
};

/** The role of the account the request authenticates as, comparing every account in constant time. */
export const roleOf = (accounts: readonly Account[], header: string | undefined): Role | undefined => {
  const given = parseBasic(header);
  if (!given) return undefined;
  let role: Role | undefined;
  for (const a of accounts) {
    // `&` not `&&`: always compare both, whichever matches.
    if (Number(safeEqual(given.user, a.user)) & Number(safeEqual(given.password, a.password))) role ??= a.role;
  }
  return role;
};

declare module 'express-serve-static-core' {
  interface Request {
    role?: Role;
    /** The dashboard account logged in (basic auth): the audit log's `board:<account>`. */
    account?: string;
  }
}

/** The configured account a login names, compared in constant time like the passwords. */
const accountNamed = (accounts: readonly Account[], user: string): string | undefined => {
  let named: string | undefined;
  for (const a of accounts) if (safeEqual(user, a.user)) named ??= a.user;
  return named;
};

/**
 * HTTP basic auth for everything a person opens: the board, /readyz, /metrics. Wrong logins are
 * counted and logged, and an address that keeps failing gets 429 (see auth-throttle.ts).
 */
export const basicAuth = (accounts: readonly Account[], guard: AuthGuard) => (req: Request, res: Response, next: NextFunction) => {
  const given = parseBasic(req.headers.authorization);
  const attempt: Attempt = { scheme: 'basic', ...(given ? { account: accountNamed(accounts, given.user) } : {}) };
  if (given && !guard.admits(req, res, attempt)) return;
  const role = given ? roleOf(accounts, req.headers.authorization) : undefined;
  if (!role) {
    // No credentials at all is how a browser asks for the login prompt: not a failure.
    if (given) guard.failed(req, attempt);
    res.set('WWW-Authenticate', 'Basic realm="task-hub", charset="UTF-8"');
    sendError(res, 401, 'unauthorized', 'log in with the dashboard account');
    return;
  }
  req.role = role;
  req.account = given!.user;
  next();
};

const hostOf = (origin: string): string | undefined => {
  try {
    return new URL(origin).host;
  } catch {
    return undefined;
  }
};

/**
 * Board writes from another site's page (the browser would attach the cached basic credentials)
 * are refused: a write must come from the board's own origin, or from a non-browser client.
 */
export const sameOriginWrites = (req: Request, res: Response, next: NextFunction) => {
  if (req.method === 'GET' || req.method === 'HEAD') return next();
  const site = req.headers['sec-fetch-site'];
  const origin = req.headers.origin;
  // Host only: behind a TLS-terminating proxy the scheme the app sees differs from the browser's.
  const crossSite = (site && site !== 'same-origin' && site !== 'none') || (origin && hostOf(origin) !== req.headers.host);
  if (crossSite) {
    sendError(res, 403, 'cross_site', 'board writes must come from the board itself');
    return;
  }
  next();
};
