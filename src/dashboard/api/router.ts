import { randomUUID } from 'node:crypto';
import type { Queue } from 'bullmq';
import express, { Router, type NextFunction, type Request, type Response } from 'express';
import { catalog, type AnyContract, type TaskName } from '../../contracts/index.ts';
import { didYouMean } from '../../core/did-you-mean.ts';
import { InvalidPayloadError } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';
import { DEFAULT_MAX_PAYLOAD_BYTES } from '../../core/validate.ts';
import type { Producer } from '../../producer/index.ts';
import { allows, bearerAuth, type ApiClient } from '../api-tokens.ts';
import { roleOf, type Account } from '../auth.ts';
import { describeTask } from '../task-schemas.ts';
import { apiErrorHandler, fieldsOf, forbiddenKeyIn, sendError } from './errors.ts';
import { FindQuery, findJobs } from './find-jobs.ts';

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
}

const contracts = catalog as Record<string, AnyContract>;
const HEADER_VALUE = /^[\x21-\x7e]{1,200}$/;
/** People logged into the board may read through the API (find jobs, the catalog); enqueueing needs a token. */
const BOARD_READER: ApiClient = { name: 'dashboard', token: '', scopes: ['*'] };

export const createApiRouter = ({ clients, accounts, producerFor, queues, log, redisReady = () => true, maxBodyBytes = DEFAULT_MAX_PAYLOAD_BYTES }: ApiDeps): Router => {
  const router = Router();
  const bearer = bearerAuth(clients);
  const readAuth = (req: Request, res: Response, next: NextFunction) => {
    if (/^Basic /i.test(req.headers.authorization ?? '') && roleOf(accounts, req.headers.authorization)) {
      req.apiClient = BOARD_READER;
      return next();
    }
    return bearer(req, res, next);
  };
  const reader = producerFor('api');
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

  const knownTaskInScope = (req: Request, res: Response, next: NextFunction) => {
    const name = String(req.params.name);
    if (!Object.hasOwn(contracts, name)) return sendError(res, 404, 'unknown_task', `unknown task "${name}"${didYouMean(name, Object.keys(contracts))}`);
    if (!allows(req.apiClient!, name)) return sendError(res, 403, 'forbidden', `client "${req.apiClient!.name}" may not enqueue ${name}`);
    const hasBody = Number(req.headers['content-length'] ?? 0) > 0 || req.headers['transfer-encoding'] !== undefined;
    if (hasBody && !req.is(['application/json', 'application/*+json'])) return sendError(res, 415, 'unsupported_media_type', 'send the payload as application/json');
    next();
  };

  router.post('/tasks/:name', bearer, knownTaskInScope, needsRedis, express.json({ limit: maxBodyBytes }), async (req, res) => {
    const name = String(req.params.name) as TaskName;
    const client = req.apiClient!;
    const payload: unknown = req.body ?? {};
    const polluting = forbiddenKeyIn(payload);
    if (polluting) return sendError(res, 400, 'invalid_payload', `field "${polluting}" is not allowed`, { fields: [{ path: polluting, message: 'reserved key' }] });
    const requestId = req.get('x-request-id') ?? randomUUID();
    const idempotencyKey = req.get('idempotency-key');
    if (!HEADER_VALUE.test(requestId)) return sendError(res, 400, 'invalid_header', 'X-Request-ID: 1-200 visible ASCII characters');
    if (idempotencyKey !== undefined && !HEADER_VALUE.test(idempotencyKey)) return sendError(res, 400, 'invalid_header', 'Idempotency-Key: 1-200 visible ASCII characters');
    try {
      const job = await producerFor(`api:${client.name}`).enqueue(name, payload as never, { requestId, ...(idempotencyKey ? { idempotencyKey } : {}) });
      log.info({ client: client.name, task: name, jobId: job.id, requestId }, 'api: enqueued');
      res.status(202).set('X-Request-ID', requestId).location(`/api/v1/jobs/${job.id}`).json({ id: job.id, task: name, queue: job.queue, requestId });
    } catch (err) {
      if (!(err instanceof InvalidPayloadError)) throw err;
      const parsed = contracts[name]!.schema.safeParse(payload);
      const fields = parsed.success ? [] : fieldsOf(parsed.error);
      sendError(res, 400, 'invalid_payload', `invalid payload for ${name}: ${fields.map((f) => `${f.path}: ${f.message}`).join('; ')}`, { fields });
    }
  });

  router.get('/jobs', readAuth, needsRedis, async (req, res) => {
    const query = FindQuery.safeParse(req.query);
    if (!query.success) return sendError(res, 400, 'invalid_query', 'expected ?task=<name>&state=<state>&limit=<1..100>', { fields: fieldsOf(query.error) });
    if (!allows(req.apiClient!, query.data.task)) return sendError(res, 403, 'forbidden', `client "${req.apiClient!.name}" may not read ${query.data.task}`);
    const queue = queues.get(contracts[query.data.task]!.queue)!;
    res.json(await findJobs(queue, query.data));
  });

  router.get('/jobs/:id', readAuth, needsRedis, async (req, res) => {
    const id = String(req.params.id);
    const job = /^[A-Za-z0-9._-]{1,200}$/.test(id) ? await reader.getJob(id) : undefined;
    if (!job) return sendError(res, 404, 'job_not_found', `job ${id} not found (never enqueued, or removed by retention)`);
    if (!allows(req.apiClient!, job.task)) return sendError(res, 403, 'forbidden', `client "${req.apiClient!.name}" may not read ${job.task} jobs`);
    res.json(job);
  });

  router.use(readAuth, (_req, res) => sendError(res, 404, 'not_found', 'no such endpoint; see GET /api/v1/tasks'));
  router.use(apiErrorHandler(log));
  return router;
};
