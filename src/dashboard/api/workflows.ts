import { createHash } from 'node:crypto';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { z } from 'zod';
import { DEFAULT_MAX_WORKFLOW_MEMBERS, WorkflowSpec } from '../../contracts/workflow.ts';
import { EnqueueError, InvalidWorkflowError, UnknownTaskError, WorkflowConflictError } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';
import { isRecord } from '../../core/records.ts';
import type { Producer } from '../../producer/index.ts';
import { allows } from '../api-tokens.ts';
import { mayRead } from '../api-scopes.ts';
import { sendError } from '../send-error.ts';
import { keyedHeaders, readJsonBody, refusedMediaType, refusedPolluting, sendInvalidFields, unavailable } from './json-post.ts';

export interface WorkflowRouteDeps {
  producerFor: (service: string) => Producer;
  log: Logger;
  redisReady: () => boolean;
  /** A workflow body may list up to 10,000 steps: its own limit, well above one payload's. */
  maxBodyBytes: number;
}

const EXAMPLE = {
  type: 'chord',
  members: [{ task: 'order.generateInvoice', payload: { orderId: '3f1c2b9a-0000-4000-8000-000000000001' } }],
  callback: { task: 'order.summarizeResults', payload: { label: 'invoices' }, from: { results: '$' } },
};

let schema: Record<string, unknown> | undefined;
/** `GET /api/v1/workflows`: the body's JSON Schema, an example and the size limit. */
export const describeWorkflows: RequestHandler = (_req, res) => {
  schema ??= z.toJSONSchema(WorkflowSpec, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  res.json({ schema, example: EXAMPLE, maxMembers: DEFAULT_MAX_WORKFLOW_MEMBERS, from: "a step's `from` maps payload fields to paths in the previous result ('$': all of it)" });
};

/** The task names a body mentions, as written (unknown ones are refused later, with a suggestion). */
const tasksIn = (body: unknown): string[] => {
  if (!isRecord(body)) return [];
  const steps = [body.steps, body.members].flatMap((list) => (Array.isArray(list) ? list : []));
  if (body.callback !== undefined) steps.push(body.callback);
  return [...new Set(steps.map((s) => (isRecord(s) && typeof s.task === 'string' ? s.task : '')).filter(Boolean))];
};

/** A client's Idempotency-Key names its workflow (scoped to the client: another client's key never names it). */
const workflowIdOf = (client: string, key: string) => `k-${createHash('sha256').update(client).update('\0').update(key).digest('base64url').slice(0, 32)}`;

/** `POST /api/v1/workflows` after bearer auth: a chain, group or chord as JSON; every task it names must be in the token's scopes. */
export const startWorkflowRoute = ({ producerFor, log, redisReady, maxBodyBytes }: WorkflowRouteDeps): RequestHandler[] => {
  const jsonOnly = (req: Request, res: Response, next: NextFunction) => (refusedMediaType(req, res, 'workflow') ? undefined : next());
  const unavailableHere = (res: Response) => unavailable(res, 'the workflow may have been started or not', 'it adds only what is missing, never a job twice');
  const needsRedis = (_req: Request, res: Response, next: NextFunction) => (redisReady() ? next() : unavailableHere(res));

  const start = async (req: Request, res: Response) => {
    const client = req.apiClient!;
    const body: unknown = req.body;
    if (refusedPolluting(res, body, 'invalid_workflow')) return;
    const denied = tasksIn(body).find((task) => !allows(client, task));
    if (denied) return sendError(res, 403, 'forbidden', `client "${client.name}" may not enqueue ${denied}, which the workflow names (it needs every task's scope)`);
    // The key the client sent, or the one generated here that a 503 hands out: a retry with it names the same workflow.
    const { requestId, idempotencyKey } = res.locals as { requestId: string; idempotencyKey: string };
    const workflowId = workflowIdOf(client.name, idempotencyKey);
    try {
      const started = await producerFor(`api:${client.name}`).startWorkflow(body, { workflowId, requestId });
      log.info({ client: client.name, workflowId, type: started.type, jobs: started.jobs.length, requestId }, 'api: workflow started');
      res.status(202).set('X-Request-ID', requestId).location(`/api/v1/workflows/${workflowId}`).json(started);
    } catch (err) {
      if (err instanceof EnqueueError) {
        log.warn({ client: client.name, workflowId, err: err.message }, 'api: Redis unavailable');
        return unavailableHere(res);
      }
      if (err instanceof WorkflowConflictError) return sendError(res, 409, 'idempotency_conflict', `Idempotency-Key already started another workflow (${workflowId})`, { workflowId });
      if (err instanceof UnknownTaskError) return sendError(res, 404, 'unknown_task', err.message);
      if (!(err instanceof InvalidWorkflowError)) throw err;
      if (err.limit !== undefined) return sendError(res, 413, 'workflow_too_large', err.message, { limit: err.limit, fields: err.fields, fieldCount: err.fieldCount });
      sendInvalidFields(res, 'invalid_workflow', err.step ? `invalid workflow at ${err.step}` : 'invalid workflow', err, err.step ? { step: err.step } : {});
    }
  };
  return [jsonOnly, keyedHeaders, needsRedis, readJsonBody(maxBodyBytes), start];
};

/** `GET /api/v1/workflows/:id`: each step's state and job (with its board link), and the result or failure once it is over. */
export const workflowStatusRoute = (reader: Producer): RequestHandler => async (req, res) => {
  const id = String(req.params.id);
  const info = await reader.getWorkflow(id);
  if (!info) return sendError(res, 404, 'workflow_not_found', `workflow "${id.slice(0, 100)}" not found (never started, or past its retention)`);
  const denied = info.steps.find((s) => !mayRead(req.apiClient!, s.task));
  if (denied) return sendError(res, 403, 'forbidden', `client "${req.apiClient!.name}" may not read ${denied.task}, which the workflow runs`);
  res.json({ ...info, steps: info.steps.map((s) => ({ ...s, boardUrl: `/queue/${encodeURIComponent(s.queue)}/${encodeURIComponent(s.jobId)}` })) });
};
