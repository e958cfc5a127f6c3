import { randomUUID } from 'node:crypto';
import type { JobsOptions, Queue } from 'bullmq';
import type { RedisClient } from '../core/redis.ts';
import { events as hubEvents, type EventName, type EventOf } from '../../events.ts';
import type { TaskName } from '../contracts/index.ts';
import type { AnyEvents, AnyEventSpec } from '../contracts/events.ts';
import { checkEvents } from '../core/check-events.ts';
import { didYouMean } from '../core/did-you-mean.ts';
import { EnqueueError, IdempotencyConflictError, InvalidEventError, InvalidPayloadError, UnknownEventError } from '../core/errors.ts';
import { jobOptionsFor, withJobId } from '../core/job-options.ts';
import { metaOf, withMeta, type JobMeta } from '../core/job-meta.ts';
import { assertPayloadSize, clip, contractOf, parsePayload, problemsOf } from '../core/validate.ts';
import { endWhenSettled, enqueueTrace } from './enqueue-trace.ts';
import { eventJobId } from './event-ids.ts';
import { payloadHash } from './idempotency.ts';

export interface PublishOptions {
  /**
   * Names the event: publishing the same id again (a retry after a timeout, or after a publish
   * that stopped half-way) adds only the subscriber jobs still missing, while they are retained.
   * Another event under the same id is IdempotencyConflictError. Default: a new UUID (returned).
   */
  eventId?: string;
  /** Carried by every subscriber job as X-Request-ID. */
  requestId?: string;
  /**
   * The eventId was generated for this very call (the HTTP API makes one when the client sends no
   * Idempotency-Key): nothing can have used it, so the read-back that catches a reused id is skipped.
   */
  freshId?: boolean;
  /**
   * W3C trace context to continue (a `traceparent` header you received) instead of the active
   * span: every subscriber job's attempts are children of the one publish span.
   */
  traceparent?: string;
  /** With traceparent: the W3C `tracestate` that came with it. */
  tracestate?: string;
}

export interface EventJob {
  id: string;
  task: TaskName;
  queue: string;
}

export interface PublishedEvent {
  eventId: string;
  /** One per subscriber, in events.ts's order. */
  jobs: EventJob[];
}

export type Publish = <E extends EventName>(name: E, event: EventOf<E>, opts?: PublishOptions) => Promise<PublishedEvent>;

type Guarded = <T, R = T>(what: string, work: () => Promise<T>, map?: (value: T) => R) => Promise<R>;

export interface PublishDeps {
  service: string;
  maxPayloadBytes: number;
  connection: RedisClient;
  queueNamed: (name: string) => Queue;
  /** The producer's deadline and Redis-error wrapper. */
  guarded: Guarded;
}

type Job = { queue: string; name: string; data: Record<string, unknown>; opts: JobsOptions };

export const eventSpecOf = (events: AnyEvents, name: string): AnyEventSpec => {
  if (typeof name !== 'string') throw new UnknownEventError(String(name), ': an event name is a string like "order.created"');
  const spec = Object.hasOwn(events, name) ? events[name] : undefined;
  if (!spec) throw new UnknownEventError(clip(name), didYouMean(name, Object.keys(events)));
  return spec;
};

/** Every subscriber's job, or the error that refuses the whole publish. Touches no Redis. */
const prepare = (events: AnyEvents, deps: PublishDeps, name: string, event: unknown, opts: PublishOptions) => {
  const spec = eventSpecOf(events, name);
  const { eventId = randomUUID(), requestId } = opts;
  if (typeof eventId !== 'string' || eventId.length < 1 || eventId.length > 200) {
    const message = 'the event id is a string of 1-200 characters';
    throw new InvalidEventError(name, message, [{ path: '(eventId)', message }]);
  }
  assertPayloadSize(name, event, deps.maxPayloadBytes);
  const result = spec.schema.safeParse(event);
  if (!result.success) {
    const { fields, fieldCount, text } = problemsOf(result.error);
    throw new InvalidEventError(name, text, fields, fieldCount);
  }
  const hash = payloadHash(result.data);
  const meta: JobMeta = { service: deps.service, event: { name, id: eventId, hash } };
  if (requestId) meta.requestId = requestId;
  const jobs: Job[] = spec.subscribers.map(({ task, map }) => {
    const contract = contractOf(task);
    let payload: unknown;
    try {
      payload = (map as (event: unknown) => unknown)(result.data);
    } catch (err) {
      const message = `its mapping threw: ${clip(String((err as Error)?.message ?? err), 300)}`;
      throw new InvalidEventError(name, message, [{ path: '(mapping)', message }], 1, task);
    }
    try {
      assertPayloadSize(task, payload, deps.maxPayloadBytes);
      payload = parsePayload(contract, payload);
    } catch (err) {
      if (err instanceof InvalidPayloadError) throw new InvalidEventError(name, err.issues, err.fields, err.fieldCount, task);
      throw err;
    }
    const id = eventJobId(contract.queue, name, eventId, task);
    return { queue: contract.queue, name: task, data: withMeta(payload, meta), opts: withJobId(jobOptionsFor(contract), id) };
  });
  // Started once every payload passed (nothing left to refuse), so no span is left open. The jobs
  // share `meta`: one publish span, and each subscriber's attempts are its children.
  const trace = enqueueTrace(`event ${name}`, jobs[0]?.queue ?? 'events', opts);
  if (trace) {
    meta.trace = trace.traceparent;
    if (trace.tracestate) meta.tracestate = trace.tracestate;
  }
  return { eventId, hash, jobs, trace };
};

/** The job of each subscriber of event `name` published under `eventId`, in events.ts's order (no Redis: the ids follow from the names). */
export const eventJobsOf = (name: string, eventId: string, events: AnyEvents = hubEvents): EventJob[] =>
  eventSpecOf(events, name).subscribers.map(({ task }) => {
    const queue = contractOf(task).queue;
    return { id: eventJobId(queue, name, eventId, task), task: task as TaskName, queue };
  });

/** Job data as stored, read back after the adds: a job of the id holding another event means the id was reused. */
const conflictIn = (stored: readonly (string | null)[], jobs: readonly Job[], hash: string): Job | undefined =>
  jobs.find((job, i) => {
    const raw = stored[i];
    if (raw == null) return false; // removed by retention in between: nothing to compare
    let data: unknown;
    try {
      data = JSON.parse(raw);
    } catch {
      return false;
    }
    const stamped = metaOf(data).event;
    return stamped !== undefined && stamped.hash !== hash;
  });

/**
 * `publish` over any events (the producer's is over events.ts; tests pass their own). Validates
 * the event and every subscriber's payload before Redis is touched, then one addBulk per queue
 * involved, all in flight at once under the producer's deadline; with a caller's eventId, one more
 * round trip reads the stored jobs back, to tell a retry from a reused id.
 */
export const createPublisher = (deps: PublishDeps, events: AnyEvents) => {
  checkEvents(events);
  return (name: string, event: unknown, opts: PublishOptions = {}): Promise<PublishedEvent> => {
    let prepared: ReturnType<typeof prepare>;
    try {
      prepared = prepare(events, deps, name, event, opts);
    } catch (err) {
      return Promise.reject(err as Error);
    }
    const { eventId, hash, jobs, trace } = prepared;
    const byQueue = new Map<string, Job[]>();
    for (const job of jobs) {
      const list = byQueue.get(job.queue);
      if (list) list.push(job);
      else byQueue.set(job.queue, [job]);
    }
    const keyOf = (job: Job) => deps.queueNamed(job.queue).toKey(job.opts.jobId!);
    const answer: PublishedEvent = { eventId, jobs: jobs.map((j) => ({ id: j.opts.jobId!, task: j.name as TaskName, queue: j.queue })) };
    const published = deps
      .guarded(
        `could not publish ${name} (event id ${clip(eventId)}; publish again with this eventId: it adds only the jobs still missing)`,
        async () => {
          await Promise.all([...byQueue].map(([queue, list]) => deps.queueNamed(queue).addBulk(list)));
          return opts.eventId === undefined || opts.freshId ? [] : Promise.all(jobs.map((j) => deps.connection.hget(keyOf(j), 'data')));
        },
        (stored) => {
          const taken = stored.length ? conflictIn(stored, jobs, hash) : undefined;
          if (taken) throw new IdempotencyConflictError(name, eventId, taken.opts.jobId!);
          return answer;
        },
      )
      .catch((err: unknown) => {
        if (err instanceof EnqueueError) err.eventId = eventId;
        throw err;
      });
    return trace ? endWhenSettled(trace, published, () => eventId) : published;
  };
};

/** events.ts as checked at producer creation, before a connection is opened (once per process). */
export const checkHubEvents = (): void => checkEvents(hubEvents);

/** The producer's `publish`, typed by events.ts. */
export const publisher = (deps: PublishDeps): Publish => createPublisher(deps, hubEvents) as Publish;
