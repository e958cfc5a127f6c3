import { readFileSync } from 'node:fs';
import { Router, type NextFunction, type Request, type Response } from 'express';
import { readAudit } from '../../control/audit.ts';
import type { Control } from '../../control/control.ts';
import { ControlError } from '../../control/errors.ts';
import { listQueues } from '../../control/queues.ts';
import { listSchedules, type ScheduleRow } from '../../control/schedules.ts';
import { cancelOrRefuse } from '../../control/cancel.ts';
import type { Logger } from '../../core/logger.ts';
import { answerWithin } from '../answer-within.ts';
import { controlRoutes, type ControlRouteDeps } from '../api/control-routes.ts';
import { principalOf } from '../api/principal.ts';
import { sendError } from '../send-error.ts';
import { renderPage } from './render.ts';
import { CONTROL_CSS } from './styles.ts';

// Next to this module in the checkout (tsx) and in dist/ (tsc copies it: allowJs).
const SCRIPT = readFileSync(new URL('./control.js', import.meta.url), 'utf8');

/** Scripts and styles from the hub only, none inline; fetches to the hub only. */
export const CONTROL_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "form-action 'self'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join('; ');


/**
 * The board's control page: Bull Board cannot take custom actions, so the hub serves its own
 * small page (schedules, queues, replay, cancel, audit) at /hub/control, behind the board's
 * login, with its API at /hub/api (the same routes as /api/v1, for the logged-in account).
 */
export const controlPage = ({ control, cancel = cancelOrRefuse, redisTimeoutMs, log }: ControlRouteDeps & { redisTimeoutMs: number; log: Logger }): Router => {
  const router = Router();
  router.use('/hub', (_req, res, next) => {
    res.set({ 'Content-Security-Policy': CONTROL_POLICY, 'Cache-Control': 'no-store' });
    next();
  });
  router.get('/hub/control.js', (_req, res) => void res.type('text/javascript').send(SCRIPT));
  router.get('/hub/control.css', (_req, res) => void res.type('text/css').send(CONTROL_CSS));
  router.get('/hub/control', async (req: Request, res) => {
    const p = principalOf(req);
    let schedules: ScheduleRow[] = [];
    let scheduleError: string | undefined;
    try {
      schedules = await listSchedules(control);
    } catch (err) {
      scheduleError = `the schedule could not be read: ${(err as Error).message}`;
    }
    const [queues, audit] = await Promise.all([listQueues(control), readAudit(control.redis, control.prefix, { limit: 50 })]);
    res.type('html').send(renderPage({ who: p.who, readOnly: p.readOnly, schedules, queues, audit, ...(scheduleError ? { scheduleError } : {}) }));
  });
  // A replay of many jobs takes seconds: it is bounded by its batches, not by answerWithin.
  router.use('/hub/api', (req, res, next) => (req.method === 'POST' && req.path === '/replays' ? next() : answerWithin(redisTimeoutMs)(req, res, next)));
  router.use('/hub/api', controlRoutes({ control, cancel }));
  router.use('/hub/api', (_req, res) => sendError(res, 404, 'not_found', 'no such endpoint'));
  router.use('/hub/api', (err: Error, _req: Request, res: Response, _next: NextFunction) => {
    log.error({ err: err.message, stack: err.stack }, 'control page: unexpected error');
    sendError(res, 500, 'internal', 'internal error');
  });
  return router;
};
