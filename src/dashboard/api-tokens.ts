import type { NextFunction, Request, Response } from 'express';
import { catalog } from '../contracts/index.ts';
import { didYouMean } from '../core/did-you-mean.ts';
import { ConfigError } from '../core/errors.ts';
import { isScope, knownScopes, mayAct, mayEnqueue, mayPublish, type TaskAction } from './api-scopes.ts';
import { safeEqual } from './auth.ts';
import type { AuthGuard } from './auth-throttle.ts';
import { sendError } from './send-error.ts';

/** One HTTP API client: a name for logs and job metadata, its secret, what it may enqueue. */
export interface ApiClient {
  name: string;
  token: string;
  /** `*`, domains (`order`), full task names (`order.sendConfirmation`), events, or control actions (api-scopes.ts). */
  scopes: readonly string[];
}

const domains = [...new Set(Object.values(catalog).map((c) => c.domain))];
/** Shorter than any token, so a name is always safe to print (the token is never printed). */
const CLIENT = /^[a-z][a-z0-9-]{0,22}$/;
const MIN_TOKEN = 24;
const TOKEN = new RegExp(`^[A-Za-z0-9._~+/=-]{${MIN_TOKEN},200}$`);

/** A scope is named in an error only when it is too short to be a token (a misordered entry puts one there). */
const shown = (scope: string) => (scope.length < MIN_TOKEN ? `"${scope}"` : '(not shown: as long as a token)');

/**
 * `HUB_API_TOKENS="checkout:<token>:order,cart;indexer:<token>:product.reindex;ops:<token>:*"`:
 * entries separated by `;` or newlines, each `client:token:scopes`. Tokens are at least 24
 * characters (`openssl rand -hex 24`). Errors name an entry by its position and never print a
 * part that may be a token.
 */
export const parseApiTokens = (raw: string | undefined): ApiClient[] => {
  const entries = (raw ?? '').split(/[;\n]/).map((e) => e.trim()).filter(Boolean);
  const clients: ApiClient[] = [];
  for (const [i, entry] of entries.entries()) {
    const where = `HUB_API_TOKENS entry ${i + 1}`;
    // Scopes may hold `:` themselves (`order:cancel`, `event:order.created`); names and tokens cannot.
    const first = entry.indexOf(':');
    const second = first < 0 ? -1 : entry.indexOf(':', first + 1);
    if (second < 0) throw new ConfigError(`${where}: expected client:token:scopes (e.g. checkout:<token>:order,cart)`);
    const [name, token, scopeList] = [entry.slice(0, first), entry.slice(first + 1, second), entry.slice(second + 1)].map((p) => p.trim()) as [string, string, string];
    if (!CLIENT.test(name)) {
      throw new ConfigError(`${where}: the client name (first part) must be 1-23 characters of a-z, 0-9 and -, starting with a letter; expected client:token:scopes`);
    }
    if (!TOKEN.test(token)) throw new ConfigError(`${where} (${name}): the token (second part) must be 24+ characters of [A-Za-z0-9._~+/=-] (try: openssl rand -hex 24)`);
    const scopes = scopeList.split(',').map((s) => s.trim()).filter(Boolean);
    if (!scopes.length) throw new ConfigError(`${where} (${name}): no scopes; use * for every task`);
    for (const s of scopes) {
      if (!isScope(s)) {
        const hint = s.length < MIN_TOKEN ? didYouMean(s, knownScopes()) : '';
        throw new ConfigError(
          `${where} (${name}): unknown scope ${shown(s)}${hint}; use *, a domain (${domains.join(', ')}) or a task name to enqueue, ` +
            `events or event:<name> to publish, <domain|task|*>:cancel, <domain|task|*>:replay, replay, schedules, queues or admin`,
        );
      }
    }
    if (clients.some((c) => c.name === name)) throw new ConfigError(`${where}: client "${name}" is listed twice`);
    if (clients.some((c) => c.token === token)) throw new ConfigError(`${where} (${name}): the same token is given to two clients`);
    clients.push({ name, token, scopes });
  }
  return clients;
};

/** May enqueue the task (see api-scopes.ts for the control actions). */
export const allows = (client: ApiClient, task: string): boolean => mayEnqueue(client, task);

/** May act on jobs of `task` (cancel, replay): a scope naming the action, or admin; enqueueing is not control. */
export const allowsAction = (client: ApiClient, action: TaskAction, task: string): boolean => mayAct(client, action, task);

/** Publishing and reading an event: `*`, `events`, `event:<name>` or admin. A domain scope (`order`) is for tasks only. */
export const allowsEvent = (client: ApiClient, event: string): boolean => mayPublish(client, event);

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

/** Bearer tokens for the API; wrong ones are counted and logged, and an address that keeps failing gets 429. */
export const bearerAuth = (clients: readonly ApiClient[], guard: AuthGuard) => (req: Request, res: Response, next: NextFunction) => {
  const match = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization?.trim() ?? '');
  if (match && !guard.admits(req, res, { scheme: 'bearer' })) return;
  const client = match ? clientFor(clients, match[1]!) : undefined;
  if (!client) {
    if (match) guard.failed(req, { scheme: 'bearer' });
    const error = match ? 'invalid_token' : 'missing_token';
    res.set('WWW-Authenticate', `Bearer realm="task-hub"${match ? ', error="invalid_token"' : ''}`);
    sendError(res, 401, error, match ? 'the bearer token is not valid' : 'send Authorization: Bearer <token> (see HUB_API_TOKENS)');
    return;
  }
  req.apiClient = client;
  next();
};
