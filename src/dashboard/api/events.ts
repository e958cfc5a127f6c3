import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { events, type EventName } from '../../../events.ts';
import type { AnyEvents } from '../../contracts/events.ts';
import { didYouMean } from '../../core/did-you-mean.ts';
import { EnqueueError, IdempotencyConflictError, InvalidEventError } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';
import { incomingTrace } from '../../core/tracing/traceparent.ts';
import { clip, contractOf } from '../../core/validate.ts';
import type { Producer } from '../../producer/index.ts';
import { eventJobId } from '../../producer/event-ids.ts';
import { allowsEvent } from '../api-tokens.ts';
import { eventCatalog } from '../event-schemas.ts';
import { sendError } from '../send-error.ts';
import { keyedHeaders, readJsonBody, refusedMediaType, refusedPolluting, sendInvalidFields, unavailable } from './json-post.ts';

export interface EventRouteDeps {
  producerFor: (service: string) => Producer;
  log: Logger;
  redisReady: () => boolean;
  maxBodyBytes: number;
}

const hubEvents: AnyEvents = events;

/** The 404 of every route under /api/v1/events for a name events.ts does not declare, with a suggestion. */
export const sendUnknownEvent = (res: Response, name: string) =>
  sendError(res, 404, 'unknown_event', `unknown event "${clip(name)}"${didYouMean(name, Object.keys(hubEvents))}; see GET /api/v1/events`);

/** 404 for an unknown event (with a suggestion), 403 outside the client's scopes; `verb` for the message. */
const knownEventInScope = (verb: string) => (req: Request, res: Response, next: NextFunction) => {
  const name = String(req.params.name);
  if (!Object.hasOwn(hubEvents, name)) return sendUnknownEvent(res, name);
  if (!allowsEvent(req.apiClient!, name)) return sendError(res, 403, 'forbidden', `client "${req.apiClient!.name}" may not ${verb} ${name} (scope events or event:${name})`);
  next();
};

/** `GET /api/v1/events`: every event with its JSON Schema, a valid example and its subscribers. */
export const listEvents: RequestHandler = (_req, res) => void res.json({ events: eventCatalog() });

/** `POST /api/v1/events/:name` after bearer auth: the body is the event, Idempotency-Key its id. */
export const publishRoute = ({ producerFor, log, redisReady, maxBodyBytes }: EventRouteDeps): RequestHandler[] => {
  const jsonOnly = (req: Request, res: Response, next: NextFunction) => (refusedMediaType(req, res, 'event') ? undefined : next());
  const unavailableHere = (res: Response) =>
    unavailable(res, 'the event may have been published in part or not at all', 'it adds only the subscriber jobs still missing, never one twice', {
      eventId: res.locals.idempotencyKey as string,
    });
  const needsRedis = (_req: Request, res: Response, next: NextFunction) => (redisReady() ? next() : unavailableHere(res));

  const publish = async (req: Request, res: Response) => {
    const name = String(req.params.name) as EventName;
    const client = req.apiClient!;
    const event: unknown = req.body === undefined ? {} : req.body;
    if (refusedPolluting(res, event, 'invalid_event')) return;
    const { requestId, idempotencyKey: eventId, freshKey } = res.locals as { requestId: string; idempotencyKey: string; freshKey: boolean };
    try {
      // The caller's W3C trace context, when it sent one: the subscriber jobs' traces continue it.
      const trace = incomingTrace(req.get('traceparent'), req.get('tracestate'));
      const published = await producerFor(`api:${client.name}`).publish(name, event as never, { eventId, requestId, freshId: freshKey, ...trace });
      log.info({ client: client.name, event: name, eventId, jobs: published.jobs.map((j) => j.id), requestId }, 'api: published');
      res
        .status(202)
        .set('X-Request-ID', requestId)
        .location(`/api/v1/events/${name}/${encodeURIComponent(eventId)}`)
        .json({ event: name, eventId: published.eventId, jobs: published.jobs });
    } catch (err) {
      if (err instanceof EnqueueError) {
        log.warn({ client: client.name, event: name, eventId, err: err.message }, 'api: Redis unavailable');
        return unavailableHere(res);
      }
      if (err instanceof IdempotencyConflictError) return sendError(res, 409, 'idempotency_conflict', err.message, { eventId, jobId: err.jobId });
      if (!(err instanceof InvalidEventError)) throw err;
      const subject = err.subscriber ? `event ${name} cannot be delivered to its subscriber ${err.subscriber}, so nothing was published` : `invalid event ${name}`;
      sendInvalidFields(res, 'invalid_event', subject, err, err.subscriber ? { subscriber: err.subscriber } : {});
    }
  };

  return [knownEventInScope('publish'), jsonOnly, keyedHeaders, needsRedis, readJsonBody(maxBodyBytes), publish];
};

/**
 * `GET /api/v1/events/:name/:eventId`: each subscriber's job and its state. The ids follow from
 * (event, id, task), so this reads the jobs directly; none found is 404.
 */
export const eventStatusRoute = (reader: Producer): RequestHandler[] => {
  const status = async (req: Request, res: Response) => {
    const name = String(req.params.name);
    const eventId = String(req.params.eventId);
    if (eventId.length > 200) return sendError(res, 404, 'event_not_found', 'no event has an id over 200 characters');
    const subscribers = hubEvents[name]!.subscribers.map(({ task }) => ({ task, queue: contractOf(task).queue }));
    const found = await Promise.all(subscribers.map(({ task, queue }) => reader.getJob({ id: eventJobId(queue, name, eventId, task), queue })));
    if (found.every((j) => j === undefined)) {
      return sendError(res, 404, 'event_not_found', `no job of event ${name} "${clip(eventId)}" found (never published, or removed by retention)`);
    }
    const jobs = subscribers.map(({ task, queue }, i) => {
      const id = eventJobId(queue, name, eventId, task);
      const job = found[i];
      const boardUrl = `/queue/${encodeURIComponent(queue)}/${encodeURIComponent(id)}`;
      if (!job) return { id, task, queue, state: 'missing' as const };
      const { payload: _payload, progress: _progress, ...info } = job;
      return { ...info, boardUrl };
    });
    res.json({ event: name, eventId, complete: jobs.every((j) => j.state !== 'missing'), jobs });
  };
  return [knownEventInScope('read'), status];
};
