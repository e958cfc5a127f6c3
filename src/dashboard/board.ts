import { createBullBoard } from '@bull-board/api';
import type { BeforeHook, BeforeHookResult, UIConfig } from '@bull-board/api/typings/app';
import { ExpressAdapter } from '@bull-board/express';
import type { Queue } from 'bullmq';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { catalog } from '../contracts/index.ts';
import { contractOf, validateTask } from '../core/validate.ts';
import { payloadOf } from '../core/job-meta.ts';
import { isRecord } from '../core/records.ts';
import type { Producer } from '../producer/index.ts';
import { HubQueueAdapter, sensitiveOf } from './hub-queue-adapter.ts';
import { contractsOnQueue } from './task-schemas.ts';

const REDACTED = '[redacted]';

const refuse = (message: string): BeforeHookResult => ({ allow: false, status: 400, errorKey: 'ERRORS.INVALID_REQUEST_BODY', message });

/** The message of a validation error, or undefined when the payload is fine. */
const problemWith = (task: string, queue: string, data: unknown): string | undefined => {
  try {
    const contract = Object.hasOwn(catalog, task) ? contractOf(task) : undefined;
    if (contract?.queue !== queue) {
      return `Job name must be a task of queue "${queue}": ${contractsOnQueue(queue).map((c) => c.name).join(', ')} (got "${task}")`;
    }
    const payload = payloadOf(data ?? {});
    const copied = contract.sensitive.filter((f) => isRecord(payload) && payload[f] === REDACTED);
    if (copied.length) return `${copied.join(', ')} ${copied.length > 1 ? 'are' : 'is'} sensitive and shown redacted: enter the real value`;
    validateTask(task, payload);
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
};

/**
 * Board writes that carry job data are checked against the task contract before Bull Board runs
 * them, so the form answers 400 naming the field instead of adding a job that fails in the worker.
 * An edit keeps sensitive values the board showed as [redacted].
 */
const checkJobData: BeforeHook = async ({ route, request }) => {
  const queue = String(request.params.queueName ?? '');
  if (route === '/api/queues/:queueName/add') {
    const { name, data } = (request.body ?? {}) as { name?: string; data?: unknown };
    const problem = problemWith(String(name ?? ''), queue, data);
    return problem ? refuse(problem) : undefined;
  }
  if (route === '/api/queues/:queueName/:jobId/update-data') {
    const job = await request.queues.get(queue)?.getJob(String(request.params.jobId));
    const edited = ((request.body ?? {}) as { jobData?: unknown }).jobData;
    if (!job || !isRecord(edited)) return undefined;
    const stored = job.toJSON().data as unknown;
    for (const f of sensitiveOf(job.toJSON().name)) {
      if (edited[f] === REDACTED && isRecord(stored) && f in stored) edited[f] = stored[f];
    }
    const problem = problemWith(job.toJSON().name, queue, edited);
    return problem ? refuse(problem) : undefined;
  }
  return undefined;
};

const boardRouter = (adapters: HubQueueAdapter[], uiConfig: UIConfig, withHooks: boolean): RequestHandler => {
  const serverAdapter = new ExpressAdapter();
  serverAdapter.setBasePath('/');
  createBullBoard({
    queues: adapters,
    serverAdapter,
    options: { uiConfig, ...(withHooks ? { handlerHooks: { before: checkJobData } } : {}) },
  });
  return serverAdapter.getRouter() as RequestHandler;
};

const readOnly = (req: Request, res: Response, next: NextFunction) => {
  if (req.method === 'GET' || req.method === 'HEAD') return next();
  res.status(405).set('Allow', 'GET, HEAD').json({ error: { code: 'read_only', message: 'this account is read-only' } });
};

/**
 * Two boards over the same queues: the admin's, and a read-only one for the viewer account whose
 * adapters run in readOnlyMode (buttons hidden, Bull Board answers 405). The viewer's writes are
 * also refused here, before Bull Board, so no route can slip through.
 */
export const createBoard = (queues: readonly Queue[], producer: Producer): RequestHandler => {
  const ui: UIConfig = {
    boardTitle: 'task-hub',
    hideDocsLink: true,
    miscLinks: [
      { text: 'Task catalog (API)', url: '/api/v1/tasks' },
      { text: 'Metrics', url: '/metrics' },
    ],
  };
  const admin = boardRouter(queues.map((q) => new HubQueueAdapter(q, producer)), ui, true);
  const viewer = boardRouter(
    queues.map((q) => new HubQueueAdapter(q, producer, { readOnlyMode: true })),
    { ...ui, environment: { label: 'read-only', color: '#6b7280' } },
    false,
  );
  return (req, res, next) => {
    if (req.role === 'admin') return admin(req, res, next);
    readOnly(req, res, () => viewer(req, res, next));
  };
};
