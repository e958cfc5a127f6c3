import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { catalog, type AnyContract, type TaskName } from '../../contracts/index.ts';
import { didYouMean } from '../../core/did-you-mean.ts';
import { EnqueueError, IdempotencyConflictError, InvalidOptionError, InvalidPayloadError } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';
import { incomingTrace } from '../../core/tracing/traceparent.ts';
import { clip } from '../../core/validate.ts';
import type { Producer } from '../../producer/index.ts';
import { allows } from '../api-tokens.ts';
import { sendError, sendInvalidOption } from '../send-error.ts';
import { EXPIRY_HEADERS, expiryFromHeaders } from './expiry-headers.ts';
import { keyedHeaders, readJsonBody, refusedMediaType, refusedPolluting, sendInvalidFields, unavailable as unavailableWith } from './json-post.ts';

export interface EnqueueDeps {
  producerFor: (service: string) => Producer;
  log: Logger;
  redisReady: () => boolean;
  maxBodyBytes: number;
}

const contracts = catalog as Record<string, AnyContract>;

/** `POST /api/v1/tasks/:name` after bearer auth: checks, body, enqueue, answer. */
export const enqueueRoute = ({ producerFor, log, redisReady, maxBodyBytes }: EnqueueDeps): RequestHandler[] => {
  const knownTaskInScope = (req: Request, res: Response, next: NextFunction) => {
    const name = String(req.params.name);
    if (!Object.hasOwn(contracts, name)) return sendError(res, 404, 'unknown_task', `unknown task "${clip(name)}"${didYouMean(name, Object.keys(contracts))}`);
    if (!allows(req.apiClient!, name)) return sendError(res, 403, 'forbidden', `client "${req.apiClient!.name}" may not enqueue ${name}`);
    if (!refusedMediaType(req, res, 'payload')) next();
  };

  const readJson = readJsonBody(maxBodyBytes);

  const invalidOption = (res: Response, err: InvalidOptionError) => sendInvalidOption(res, err, EXPIRY_HEADERS[err.field] ?? err.field);

  /** Every enqueue is keyed: by the client's Idempotency-Key, or by one generated here (json-post.ts); and the expiry headers. */
  const enqueueHeaders = (req: Request, res: Response, next: NextFunction) =>
    keyedHeaders(req, res, () => {
      try {
        res.locals.expiry = expiryFromHeaders(req);
      } catch (err) {
        return invalidOption(res, err as InvalidOptionError);
      }
      next();
    });

  const unavailable = (res: Response, jobId?: string) =>
    unavailableWith(res, 'the job may have been enqueued or not', 'it never enqueues twice', jobId ? { jobId } : {});

  const needsRedis = (_req: Request, res: Response, next: NextFunction) => (redisReady() ? next() : unavailable(res));

  const enqueue = async (req: Request, res: Response) => {
    const name = String(req.params.name) as TaskName;
    const client = req.apiClient!;
    // No body at all is {} (tasks whose fields all have defaults); a `null` body is not.
    const payload: unknown = req.body === undefined ? {} : req.body;
    if (refusedPolluting(res, payload, 'invalid_payload')) return;
    const { requestId: sent, idempotencyKey, freshKey, expiry } = res.locals as { requestId: string; idempotencyKey: string; freshKey: boolean; expiry: object };
    try {
      // The caller's W3C trace context, when it sent one: the job's trace continues it.
      const trace = incomingTrace(req.get('traceparent'), req.get('tracestate'));
      const job = await producerFor(`api:${client.name}`).enqueue(name, payload as never, { requestId: sent, idempotencyKey, freshKey, ...trace, ...expiry });
      // A repeated key answers with the job's first request id: the one its HTTP calls carry.
      const requestId = job.requestId ?? sent;
      log.info({ client: client.name, task: name, jobId: job.id, requestId }, 'api: enqueued');
      res.status(202).set('X-Request-ID', requestId).location(`/api/v1/jobs/${job.id}`).json({ id: job.id, task: name, queue: job.queue, requestId });
    } catch (err) {
      if (err instanceof EnqueueError) {
        log.warn({ client: client.name, task: name, jobId: err.jobId, err: err.message }, 'api: Redis unavailable');
        return unavailable(res, err.jobId);
      }
      if (err instanceof IdempotencyConflictError) return sendError(res, 409, 'idempotency_conflict', err.message, { jobId: err.jobId });
      if (err instanceof InvalidOptionError) return invalidOption(res, err);
      if (!(err instanceof InvalidPayloadError)) throw err;
      sendInvalidFields(res, 'invalid_payload', `invalid payload for ${name}`, err);
    }
  };

  return [knownTaskInScope, enqueueHeaders, needsRedis, readJson, enqueue];
};
