import express, { type Request, type RequestHandler, type Response } from 'express';
import { z } from 'zod';
import { events } from '../../../events.ts';
import { cancelEventOrRefuse, cancelJob, cancelWorkflowOrRefuse, type CancelRequest, type ControlDeps } from '../../control/cancel.ts';
import { ControlError } from '../../control/errors.ts';
import { InvalidOptionError } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';
import { withDeadline } from '../../producer/deadline.ts';
import { allowsAction, type ApiClient } from '../api-tokens.ts';
import { sameOriginWrites } from '../auth.ts';
import { sendError, sendInvalidOption } from '../send-error.ts';
import { sendUnknownEvent } from './events.ts';

export interface CancelRouteDeps {
  control: ControlDeps;
  log: Logger;
  /** Bearer tokens, and board logins (basic auth) as the board's control page sends them. */
  bearer: RequestHandler;
  basic: RequestHandler;
  /** 503 at once while Redis is unreachable. */
  needsRedis: RequestHandler;
  /** How long a cancel may wait on Redis before answering 503. */
  timeoutMs?: number;
}

const JOB_ID = /^[A-Za-z0-9._-]{1,200}$/;
const Body = z.strictObject({ reason: z.string().optional() });

/** Who asks: a token (its scopes decide per task), or a board login (the admin account may, the read-only one may not). */
const authenticateWith =
  ({ bearer, basic }: Pick<CancelRouteDeps, 'bearer' | 'basic'>): RequestHandler =>
  (req, res, next) => {
    if (!/^Basic /i.test(req.headers.authorization ?? '')) return bearer(req, res, next);
    basic(req, res, () => {
      if (req.role !== 'admin') return sendError(res, 403, 'read_only', 'the read-only account cannot cancel jobs');
      sameOriginWrites(req, res, next);
    });
  };

const readJson = express.json({ limit: 4_096, type: ['application/json', 'application/*+json'] });

/** The cancel request as the caller sent it (`?reason=` or `{ "reason": "..." }`), or undefined once a 400 was sent. */
const cancelRequestOf = (req: Request, res: Response): CancelRequest | undefined => {
  const body = Body.safeParse(req.body ?? {});
  if (!body.success) {
    sendError(res, 400, 'invalid_body', 'expected a JSON object { "reason": "..." } or nothing', { fields: [{ path: 'reason', message: body.error.issues[0]!.message }], fieldCount: 1 });
    return undefined;
  }
  const query = req.query.reason;
  if (query !== undefined && body.data.reason !== undefined) {
    sendError(res, 400, 'invalid_option', 'give the reason in the query or in the body, not both');
    return undefined;
  }
  const client: ApiClient | undefined = req.apiClient;
  return {
    reason: body.data.reason ?? query,
    who: client ? `api:${client.name}` : `board:${req.account}`,
    may: client ? (task) => allowsAction(client, 'cancel', task) : undefined,
  };
};

const forbidden = (res: Response, client: ApiClient | undefined, task: string) =>
  sendError(res, 403, 'forbidden', `client "${client?.name}" may not cancel ${task} jobs (it needs the scope ${task.split('.')[0]}:cancel, ${task}:cancel or admin)`);

const invalidOption = (res: Response, err: unknown) => {
  if (!(err instanceof InvalidOptionError)) throw err;
  sendInvalidOption(res, err);
};

/** A refusal as the control surface words it (ControlError: 404, 403, 409), or a bad reason (400). */
const refused = (res: Response, err: unknown) => {
  if (err instanceof ControlError) return sendError(res, err.status, err.code, err.message, err.extra);
  invalidOption(res, err);
};

/**
 * `DELETE /api/v1/jobs/{id}` (`?reason=` or a JSON body `{ "reason": "..." }`): 200 with what
 * happened (`removed`, `aborting`, `cancelled`), 409 with the state of a finished job, 404 for an
 * unknown one, 403 outside the token's `<task>:cancel` scopes or for the board's read-only account.
 */
export const cancelRoute = ({ control, log, bearer, basic, needsRedis, timeoutMs = 5_000 }: CancelRouteDeps): RequestHandler[] => {
  const cancel = async (req: Request, res: Response) => {
    const id = String(req.params.id);
    if (!JOB_ID.test(id)) return sendError(res, 404, 'job_not_found', `job ${id.slice(0, 200)} not found (never enqueued, or removed by retention)`);
    const request = cancelRequestOf(req, res);
    if (!request) return;
    const client = req.apiClient;
    const { who } = request;
    try {
      const result = await withDeadline(cancelJob(control, id, request), timeoutMs, `could not cancel job ${id}`);
      switch (result.outcome) {
        case 'not_found':
          return sendError(res, 404, 'job_not_found', `job ${id} not found (never enqueued, or removed by retention)`);
        case 'forbidden':
          return forbidden(res, client, result.task);
        case 'finished':
          return sendError(res, 409, 'job_finished', `job ${id} has ${result.state}: there is nothing to cancel`, { state: result.state, id, task: result.task, queue: result.queue });
        default:
          log.info({ who, jobId: id, task: result.task, outcome: result.outcome }, 'api: job cancelled');
          return res.json(result);
      }
    } catch (err) {
      invalidOption(res, err);
    }
  };

  return [authenticateWith({ bearer, basic }), needsRedis, readJson, cancel];
};

/**
 * `DELETE /api/v1/events/{name}/{eventId}`: cancels every subscriber job of that publish, each as
 * `DELETE /api/v1/jobs/{id}` would. 200 with one outcome per subscriber (`removed`, `aborting`,
 * `cancelled`, `finished` with its state, `not_found`); 404 when no job of the event exists; 403
 * (nothing changed) when the caller may not cancel one of the subscribers' tasks.
 */
export const cancelEventRoute = ({ control, log, bearer, basic, needsRedis, timeoutMs = 5_000 }: CancelRouteDeps): RequestHandler[] => {
  const cancel = async (req: Request, res: Response) => {
    const name = String(req.params.name);
    const eventId = String(req.params.eventId);
    if (!Object.hasOwn(events, name)) return sendUnknownEvent(res, name);
    if (eventId.length > 200) return sendError(res, 404, 'event_not_found', 'no event has an id over 200 characters');
    const request = cancelRequestOf(req, res);
    if (!request) return;
    const client = req.apiClient;
    const denied = events[name as keyof typeof events].subscribers.find(({ task }) => request.may && !request.may(task));
    if (denied) return forbidden(res, client, denied.task);
    try {
      const result = await withDeadline(cancelEventOrRefuse(control, name, eventId, request), timeoutMs, `could not cancel event ${name} ${eventId}`);
      log.info({ who: request.who, event: name, eventId, outcomes: result.jobs.map((j) => j.outcome) }, 'api: event cancelled');
      return res.json(result);
    } catch (err) {
      refused(res, err);
    }
  };

  return [authenticateWith({ bearer, basic }), needsRedis, readJson, cancel];
};

/**
 * `DELETE /api/v1/workflows/{id}` (`?reason=` or `{ "reason": "..." }`): the workflow fails as
 * cancelled, nothing more of it is enqueued, its unfinished jobs are cancelled. 200 with the
 * outcome per job; 404 for an unknown workflow; 403, nothing changed, when the caller may not
 * cancel one of the tasks it runs, or for the board's read-only account.
 */
export const cancelWorkflowRoute = ({ control, log, bearer, basic, needsRedis, timeoutMs = 5_000 }: CancelRouteDeps): RequestHandler[] => {
  const cancel = async (req: Request, res: Response) => {
    const id = String(req.params.id);
    const request = cancelRequestOf(req, res);
    if (!request) return;
    try {
      const result = await withDeadline(cancelWorkflowOrRefuse(control, id, request), timeoutMs, `could not cancel workflow ${id.slice(0, 100)}`);
      log.info({ who: request.who, workflowId: id, outcome: result.outcome, jobs: result.jobs.map((j) => j.outcome) }, 'api: workflow cancelled');
      return res.json(result);
    } catch (err) {
      refused(res, err);
    }
  };

  return [authenticateWith({ bearer, basic }), needsRedis, readJson, cancel];
};
