import type { NextFunction, Request, Response } from 'express';
import { catalog } from '../contracts/index.ts';
import { didYouMean } from '../core/did-you-mean.ts';
import { ConfigError } from '../core/errors.ts';
import { safeEqual } from './auth.ts';

/** One HTTP API client: a name for logs and job metadata, its secret, what it may enqueue. */
export interface ApiClient {
  name: string;
  token: string;
  /** `*`, domains (`order`) or full task names (`order.sendConfirmation`). */
  scopes: readonly string[];
}

const taskNames = Object.keys(catalog);
const domains = [...new Set(Object.values(catalog).map((c) => c.domain))];
const CLIENT = /^[a-z][a-z0-9-]{0,40}$/;
const TOKEN = /^[A-Za-z0-9._~+/=-]{24,200}$/;

/**
 * `HUB_API_TOKENS="checkout:<token>:order,cart;indexer:<token>:product.reindex;ops:<token>:*"`:
 * entries separated by `;` or newlines, each `client:token:scopes`. Tokens are at least 24
 * characters (`openssl rand -hex 24`).
 */
export const parseApiTokens = (raw: string | undefined): ApiClient[] => {
  const entries = (raw ?? '').split(/[;\n]/).map((e) => e.trim()).filter(Boolean);
  const clients: ApiClient[] = [];
  for (const [i, entry] of entries.entries()) {
    const where = `HUB_API_TOKENS entry ${i + 1}`;
    const parts = entry.split(':');
    if (parts.length !== 3) throw new ConfigError(`${where}: expected client:token:scopes (e.g. checkout:<token>:order,cart)`);
    const [name, token, scopeList] = parts.map((p) => p.trim()) as [string, string, string];
    if (!CLIENT.test(name)) throw new ConfigError(`${where}: client name "${name}" must match ${CLIENT}`);
    if (!TOKEN.test(token)) throw new ConfigError(`${where} (${name}): the token must be 24+ characters of [A-Za-z0-9._~+/=-] (try: openssl rand -hex 24)`);
    const scopes = scopeList.split(',').map((s) => s.trim()).filter(Boolean);
    if (!scopes.length) throw new ConfigError(`${where} (${name}): no scopes; use * for every task`);
    for (const s of scopes) {
      if (s !== '*' && !domains.includes(s) && !taskNames.includes(s)) {
        throw new ConfigError(`${where} (${name}): unknown scope "${s}"${didYouMean(s, [...domains, ...taskNames])}; use *, a domain (${domains.join(', ')}) or a task name`);
      }
    }
    if (clients.some((c) => c.name === name)) throw new ConfigError(`${where}: client "${name}" is listed twice`);
    if (clients.some((c) => c.token === token)) throw new ConfigError(`${where} (${name}): the same token is given to two clients`);
    clients.push({ name, token, scopes });
  }
  return clients;
};

export const allows = (client: ApiClient, task: string): boolean => {
  const domain = task.slice(0, task.indexOf('.'));
  return client.scopes.some((s) => s === '*' || s === task || s === domain);
};

/** Compares against every client's token in constant time, so timing says nothing about which is close. */
export const clientFor = (clients: readonly ApiClient[], presented: string): ApiClient | undefined => {
  let found: ApiClient | undefined;
  for (const c of clients) if (safeEqual(presented, c.token)) found ??= c;
  return found;
};

declare module 'express-serve-static-core' {
  interface Request {
    apiClient?: ApiClient;
  }
}

export const bearerAuth = (clients: readonly ApiClient[]) => (req: Request, res: Response, next: NextFunction) => {
  const match = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization?.trim() ?? '');
  const client = match ? clientFor(clients, match[1]!) : undefined;
  if (!client) {
    const error = match ? 'invalid_token' : 'missing_token';
    res
      .set('WWW-Authenticate', `Bearer realm="task-hub"${match ? ', error="invalid_token"' : ''}`)
      .status(401)
      .json({ error: { code: error, message: match ? 'the bearer token is not valid' : 'send Authorization: Bearer <token> (see HUB_API_TOKENS)' } });
    return;
  }
  req.apiClient = client;
  next();
};
