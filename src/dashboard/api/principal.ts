import type { NextFunction, Request, Response } from 'express';
import { mayControl, mayRead, type Control } from '../api-scopes.ts';
import { sameOriginWrites } from '../auth.ts';
import { sendError } from '../send-error.ts';

/** Who makes a request, as control routes see it: an API token or a dashboard account. */
export interface Principal {
  /** `api:<client>` or `board:<account>`: what the audit log records. */
  who: string;
  scopes: readonly string[];
  /** The board's read-only account: sees everything, changes nothing. */
  readOnly: boolean;
  /** Logged in with a password the browser resends by itself: writes must come from the hub's own pages. */
  browser: boolean;
}

/** After the API's or the board's auth: a dashboard login sees everything (the admin may act), a token what its scopes say. */
export const principalOf = (req: Request): Principal => {
  if (req.role) return { who: `board:${req.account ?? req.role}`, scopes: ['admin'], readOnly: req.role !== 'admin', browser: true };
  return { who: `api:${req.apiClient!.name}`, scopes: req.apiClient!.scopes, readOnly: false, browser: false };
};

export const canRead = (p: Principal, task: string) => mayRead(p, task);

const refuse = (res: Response, p: Principal, what: string) =>
  p.readOnly
    ? sendError(res, 403, 'read_only', 'this account is read-only')
    : sendError(res, 403, 'forbidden', `${p.who} may not ${what} (token scopes: see README, "Who may do what")`);

/** A write: refused for the read-only account, cross-site for a browser login, and outside the token's scopes. */
export const mayWrite = (what: string, allowed: (p: Principal) => boolean) => (req: Request, res: Response, next: NextFunction) => {
  const p = principalOf(req);
  if (p.readOnly || !allowed(p)) return refuse(res, p, what);
  if (p.browser) return sameOriginWrites(req, res, next);
  next();
};

export const mayReadControl = (what: Control) => (req: Request, res: Response, next: NextFunction) => {
  const p = principalOf(req);
  if (!mayControl(p, what)) return sendError(res, 403, 'forbidden', `${p.who} may not read ${what} (needs the ${what === 'audit' ? 'admin' : `${what} or admin`} scope)`);
  next();
};

export const writesControl = (what: Control) => mayWrite(`change ${what}`, (p) => mayControl(p, what));
