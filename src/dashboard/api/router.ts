import type { Queue } from 'bullmq';
import { Router, type NextFunction, type Request, type Response } from 'express';
import { catalog, type AnyContract } from '../../contracts/index.ts';
import type { Logger } from '../../core/logger.ts';
import { DEFAULT_MAX_PAYLOAD_BYTES } from '../../core/validate.ts';
import type { Producer } from '../../producer/index.ts';
import { bearerAuth, type ApiClient } from '../api-tokens.ts';
import { basicAuth, type Account } from '../auth.ts';
import type { AuthGuard } from '../auth-throttle.ts';
import type { Control } from '../../control/control.ts';
import { describeTask } from '../task-schemas.ts';
import { sendError } from '../send-error.ts';
import { cancelEventRoute, cancelRoute, cancelWorkflowRoute } from './cancel.ts';
import { controlRoutes } from './control-routes.ts';
import { enqueueRoute } from './enqueue.ts';
import { apiErrorHandler } from './errors.ts';
import { eventStatusRoute, listEvents, publishRoute } from './events.ts';
import { limitsRoute, type LimitsDeps } from './limits.ts';
import { describeWorkflows, startWorkflowRoute, workflowStatusRoute } from './workflows.ts';

export interface ApiDeps {
  clients: readonly ApiClient[];
  accounts: readonly Account[];
  /** A producer that records `service` on the jobs it adds. */
  producerFor: (service: string) => Producer;
  queues: ReadonlyMap<string, Queue>;
  log: Logger;
  /** False while the connection is down: answer 503 at once instead of waiting out the producer's deadline. */
  redisReady?: () => boolean;
  maxBodyBytes?: number;
  /** Counts wrong tokens and logins, answers 429 to an address that keeps failing (shared with the board). */
  guard: AuthGuard;
  /** The control operations (cancel, jobs by filter and key, replays, schedules, queues, audit). */
  control: Control;
  /** Where GET /limits reads the limiters, keyed tasks and pools. */
  flow?: LimitsDeps;
}

const contracts = catalog as Record<string, AnyContract>;
/** People logged into the board may read through the API (find jobs, the catalog); enqueueing needs a token. */
const BOARD_READER: ApiClient = { name: 'dashboard', token: '', scopes: ['*'] };

export const createApiRouter = ({ clients, accounts, producerFor, log, guard, control, redisReady = () => true, maxBodyBytes = DEFAULT_MAX_PAYLOAD_BYTES, flow }: ApiDeps): Router => {
  const router = Router();
  const bearer = bearerAuth(clients, guard);
  const basic = basicAuth(accounts, guard);
  const readAuth = (req: Request, res: Response, next: NextFunction) => {
    if (!/^Basic /i.test(req.headers.authorization ?? '')) return bearer(req, res, next);
    basic(req, res, () => {
      req.apiClient = BOARD_READER;
      next();
    });
  };
  router.use((_req, res, next) => {
    res.set('Cache-Control', 'no-store');
    next();
  });

  router.get('/tasks', readAuth, (_req, res) => {
    res.json({ tasks: Object.values(contracts).map(describeTask) });
  });

  const needsRedis = (_req: Request, res: Response, next: NextFunction) => {
    if (redisReady()) return next();
    res.set('Retry-After', '5');
    sendError(res, 503, 'unavailable', 'the hub cannot reach Redis; retry later');
  };

  router.post('/tasks/:name', bearer, ...enqueueRoute({ producerFor, log, redisReady, maxBodyBytes }));

  const reader = producerFor('api');
  router.get('/events', readAuth, listEvents);
  router.post('/events/:name', bearer, ...publishRoute({ producerFor, log, redisReady, maxBodyBytes }));
  router.get('/events/:name/:eventId', readAuth, needsRedis, ...eventStatusRoute(reader));

  // A workflow body lists up to 10,000 steps: 64 payloads' worth of body rather than one.
  router.get('/workflows', readAuth, describeWorkflows);
  router.post('/workflows', bearer, ...startWorkflowRoute({ producerFor, log, redisReady, maxBodyBytes: maxBodyBytes * 64 }));
  router.get('/workflows/:id', readAuth, needsRedis, workflowStatusRoute(reader));
  router.delete('/workflows/:id', ...cancelWorkflowRoute({ control, log, bearer, basic, needsRedis }));

  // Cancel answers 200/409/404 from what it found (api/cancel.ts); the rest of control (jobs by
  // filter and key, replays, schedules, queues, audit) is control-routes.ts.
  router.delete('/jobs/:id', ...cancelRoute({ control, log, bearer, basic, needsRedis }));
  router.delete('/events/:name/:eventId', ...cancelEventRoute({ control, log, bearer, basic, needsRedis }));
  router.use(['/jobs', '/replays', '/schedules', '/queues', '/audit'], readAuth, needsRedis);
  router.use(controlRoutes({ control }));

  if (flow) router.get('/limits', readAuth, needsRedis, limitsRoute(flow));

  router.use(readAuth, (_req, res) => sendError(res, 404, 'not_found', 'no such endpoint; see GET /api/v1/tasks, GET /api/v1/events and GET /api/v1/workflows'));
  router.use(apiErrorHandler(log));
  return router;
};
