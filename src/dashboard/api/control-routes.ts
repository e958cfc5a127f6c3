import express, { Router, type NextFunction, type Request, type Response } from 'express';
import { readAudit } from '../../control/audit.ts';
import { cancelWorkflowOrRefuse } from '../../control/cancel.ts';
import type { Control } from '../../control/control.ts';
import { ControlError, InvalidInputError } from '../../control/errors.ts';
import { FailedFilter, parseInput } from '../../control/failed-filter.ts';
import { jobInfo, listJobs, parseJobsQuery } from '../../control/jobs.ts';
import { describeQueue, listQueues, pauseQueue, resumeQueue, setQueueLimits } from '../../control/queues.ts';
import { replay } from '../../control/replay.ts';
import { pauseSchedule, resumeSchedule, triggerSchedule } from '../../control/schedule-actions.ts';
import { listSchedules } from '../../control/schedules.ts';
import { EnqueueError, InvalidOptionError } from '../../core/errors.ts';
import { mayAct } from '../api-scopes.ts';
import { sendError, sendInvalidOption } from '../send-error.ts';
import { canRead, mayReadControl, mayWrite, principalOf, writesControl } from './principal.ts';

const HEADER_VALUE = /^[\x21-\x7e]{1,200}$/;

export interface ControlRouteDeps {
  control: Control;
  /** Cancels a job (the page: cancelOrRefuse); with it, the routes that cancel a job or a workflow are served here too. */
  cancel?: (control: Control, id: string, opts: { reason?: string; who: string }) => Promise<unknown>;
}

const body = express.json({ limit: 16 * 1024, type: ['application/json', 'application/*+json'] });
const jsonObject = (req: Request): Record<string, unknown> => {
  const b: unknown = req.body;
  if (b === undefined) return {};
  if (typeof b !== 'object' || b === null || Array.isArray(b)) throw new InvalidInputError('the body must be a JSON object');
  return b as Record<string, unknown>;
};

/**
 * The control API over src/control: jobs by filter or key, replays, schedules, queues, the
 * audit log. Mounted under /api/v1 (tokens, or a dashboard login) and under /hub/api for the
 * board's control page (the board's login). The routes decide nothing themselves: they check
 * who may, and call the same operations the CLI calls.
 */
export const controlRoutes = ({ control, cancel }: ControlRouteDeps): Router => {
  const router = Router();

  router.get('/jobs', async (req, res) => {
    const q = parseJobsQuery(req.query);
    const p = principalOf(req);
    if (q.task && !canRead(p, q.task)) return sendError(res, 403, 'forbidden', `${p.who} may not read ${q.task} jobs`);
    res.json(await listJobs(control, q, (task) => canRead(p, task)));
  });

  router.get('/jobs/:id', async (req, res) => {
    const job = await jobInfo(control, String(req.params.id));
    const p = principalOf(req);
    if (!canRead(p, job.task)) return sendError(res, 403, 'forbidden', `${p.who.replace(/^api:/, 'client ')} may not read ${job.task} jobs`);
    res.json(job);
  });

  if (cancel) {
    router.delete('/jobs/:id', async (req, res, next) => {
      const job = await jobInfo(control, String(req.params.id));
      mayWrite(`cancel ${job.task} jobs`, (p) => mayAct(p, 'cancel', job.task))(req, res, async () => {
        try {
          const reason = typeof req.query.reason === 'string' ? req.query.reason.slice(0, 200) : undefined;
          res.json(await cancel(control, job.id, { reason, who: principalOf(req).who }));
        } catch (err) {
          next(err);
        }
      });
    });
    // A workflow runs several tasks: cancelWorkflowOrRefuse checks the cancel scope of each first.
    router.delete('/workflows/:id', mayWrite('cancel workflows', () => true), async (req, res) => {
      const p = principalOf(req);
      const reason = typeof req.query.reason === 'string' ? req.query.reason : undefined;
      res.json(await cancelWorkflowOrRefuse(control, String(req.params.id), { reason, who: p.who, may: (task) => mayAct(p, 'cancel', task) }));
    });
  }

  router.post('/replays', mayWrite('replay failed jobs', (p) => p.scopes.some((s) => s === 'admin' || s === 'replay' || s.endsWith(':replay'))), body, async (req, res) => {
    const { dryRun, ...rest } = jsonObject(req);
    if (dryRun !== undefined && typeof dryRun !== 'boolean') throw new InvalidInputError('dryRun: expected true or false', [{ path: 'dryRun', message: 'expected a boolean' }]);
    const filter = parseInput(FailedFilter, rest, 'replay filter');
    const p = principalOf(req);
    if (filter.task && !mayAct(p, 'replay', filter.task)) return sendError(res, 403, 'forbidden', `${p.who} may not replay ${filter.task} jobs`);
    res.json(await replay(control, filter, { dryRun: dryRun === true, who: p.who, mayReplay: (t) => mayAct(p, 'replay', t) }));
  });

  router.get('/schedules', mayReadControl('schedules'), async (_req, res) => void res.json({ schedules: await listSchedules(control) }));
  router.post('/schedules/:id/pause', writesControl('schedules'), async (req, res) => void res.json(await pauseSchedule(control, String(req.params.id), principalOf(req).who)));
  router.post('/schedules/:id/resume', writesControl('schedules'), async (req, res) => void res.json(await resumeSchedule(control, String(req.params.id), principalOf(req).who)));
  router.post('/schedules/:id/trigger', writesControl('schedules'), async (req, res) => {
    const header = req.get('idempotency-key') ?? req.get('x-request-id');
    if (header !== undefined && !HEADER_VALUE.test(header)) throw new InvalidInputError('Idempotency-Key / X-Request-ID: 1-200 printable characters without spaces');
    const triggered = await triggerSchedule(control, String(req.params.id), { who: principalOf(req).who, ...(header ? { requestId: header } : {}) });
    res.status(triggered.duplicate ? 200 : 202).json(triggered);
  });

  router.get('/queues', mayReadControl('queues'), async (_req, res) => void res.json({ queues: await listQueues(control) }));
  router.get('/queues/:name', mayReadControl('queues'), async (req, res) => void res.json(await describeQueue(control, String(req.params.name))));
  router.post('/queues/:name/pause', writesControl('queues'), async (req, res) => void res.json(await pauseQueue(control, String(req.params.name), principalOf(req).who)));
  router.post('/queues/:name/resume', writesControl('queues'), async (req, res) => void res.json(await resumeQueue(control, String(req.params.name), principalOf(req).who)));
  router.put('/queues/:name/limits', writesControl('queues'), body, async (req, res) => void res.json(await setQueueLimits(control, String(req.params.name), jsonObject(req), principalOf(req).who)));

  router.get('/audit', mayReadControl('audit'), async (req, res) => {
    const limit = req.query.limit === undefined ? 50 : Number(req.query.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 500) throw new InvalidInputError('limit: an integer from 1 to 500', [{ path: 'limit', message: 'expected 1..500' }]);
    const before = typeof req.query.before === 'string' ? req.query.before : undefined;
    if (before !== undefined && !/^\d{1,16}-\d{1,10}$/.test(before)) throw new InvalidInputError('before: an audit entry id such as 1764806400000-0', [{ path: 'before', message: 'expected an entry id' }]);
    res.json({ entries: await readAudit(control.redis, control.prefix, { limit, before }) });
  });

  router.use((err: unknown, _req: Request, res: Response, next: NextFunction) => {
    if (err instanceof ControlError) return sendError(res, err.status, err.code, err.message, err.extra);
    if (err instanceof InvalidOptionError) return sendInvalidOption(res, err);
    // ioredis refusing while offline, or a command timing out: Redis trouble, not a bug.
    if (err instanceof EnqueueError || /Connection is closed|Stream isn't writeable|enableOfflineQueue|ECONNREFUSED|MaxRetriesPerRequest/i.test((err as Error)?.message ?? '')) {
      res.set('Retry-After', '5');
      return sendError(res, 503, 'unavailable', 'the hub cannot reach Redis; nothing was changed (or look before repeating a write)');
    }
    next(err);
  });
  return router;
};
