import { createBullBoard } from '@bull-board/api';
import type { UIConfig } from '@bull-board/api/typings/app';
import { ExpressAdapter } from '@bull-board/express';
import type { Queue } from 'bullmq';
import type { Express, NextFunction, Request, RequestHandler, Response } from 'express';
import type { Producer } from '../producer/index.ts';
import { boardPolicy, selfContained } from './board-page.ts';
import { checkBoardWrite } from './board-writes.ts';
import { HubQueueAdapter } from './hub-queue-adapter.ts';
import { sendError } from './send-error.ts';

const boardRouter = (adapters: HubQueueAdapter[], uiConfig: UIConfig, withHooks: boolean): RequestHandler => {
  const serverAdapter = new ExpressAdapter();
  serverAdapter.setBasePath('/');
  createBullBoard({
    queues: adapters,
    serverAdapter,
    options: { uiConfig, ...(withHooks ? { handlerHooks: { before: checkBoardWrite } } : {}) },
  });
  // Bull Board's own express app: the parent's setting does not reach it.
  const app = serverAdapter.getRouter() as Express;
  app.disable('x-powered-by');
  selfContained(app);
  return app;
};

const readOnly = (req: Request, res: Response, next: NextFunction) => {
  if (req.method === 'GET' || req.method === 'HEAD') return next();
  res.set('Allow', 'GET, HEAD');
  sendError(res, 405, 'read_only', 'this account is read-only');
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
      { text: 'Control', url: '/hub/control' },
      { text: 'Task catalog (API)', url: '/api/v1/tasks' },
      { text: 'Metrics', url: '/metrics' },
    ],
  };
  const admin = boardRouter(queues.map((q) => new HubQueueAdapter(q, producer)), ui, true);
  const viewer = boardRouter(
    queues.map((q) => new HubQueueAdapter(q, producer, { readOnlyMode: true })),
    // Redis version, port and kernel are the admin's business.
    { ...ui, environment: { label: 'read-only', color: '#6b7280' }, hideRedisDetails: true },
    false,
  );
  const policy = boardPolicy();
  return (req, res, next) => {
    res.set('Content-Security-Policy', policy);
    if (req.role === 'admin') return admin(req, res, next);
    readOnly(req, res, () => viewer(req, res, next));
  };
};
