import type { NextFunction, Request, Response } from 'express';
import { sendError } from './send-error.ts';

/**
 * While Redis hangs (a stopped process, a link that died without a reset), its commands wait on
 * an open socket with no error. Routes that read Redis through code we do not own (Bull Board)
 * answer 503 after `ms` instead; the handler's own late answer is dropped.
 */
export const answerWithin = (ms: number) => (req: Request, res: Response, next: NextFunction) => {
  const timer = setTimeout(() => {
    if (res.headersSent) return;
    res.set('Retry-After', '5');
    // A write's commands may still run when Redis wakes up.
    const outcome = req.method === 'GET' || req.method === 'HEAD' ? 'retry later' : 'the change may still happen when it does: look before repeating it';
    sendError(res, 503, 'unavailable', `Redis did not answer within ${ms} ms; ${outcome}`);
    res.json = () => res;
    res.send = () => res;
  }, ms);
  res.once('close', () => clearTimeout(timer));
  next();
};
