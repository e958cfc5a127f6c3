import type { Queue } from 'bullmq';
import type { RedisClient } from '../core/redis.ts';
import { ControlError } from './errors.ts';
import { cancelAudited, cancelReason, type CancelJobResult } from '../core/cancel.ts';
import { candidateQueues } from '../producer/cancel.ts';
import { eventJobsOf } from '../producer/publish.ts';
import { workflowCanceller, type CancelledWorkflow } from '../producer/workflow-reads.ts';
import { WORKFLOW_ID } from '../contracts/workflow.ts';
import { readWorkflow } from '../core/workflow/state.ts';
import { audit } from './audit.ts';
import type { JobRef } from '../producer/index.ts';

/** What cancel needs: the hub's Redis, its key prefix, and its queues by name (a subset of what every control operation gets). */
export interface ControlDeps {
  redis: RedisClient;
  prefix: string;
  queue(name: string): Queue;
}

export interface CancelRequest {
  /** Free text, 1-500 characters: the job fails with `cancelled: <reason>`. InvalidOptionError naming `reason` otherwise. */
  reason?: unknown;
  /** For the audit log: `api:<client>`, `board:<account>`, `cli:<os user>`. */
  who: string;
  /** Whether the caller may cancel jobs of this task (token scopes); asked before anything changes. */
  may?: (task: string) => boolean;
}

/**
 * Cancels one job: removed if it waits (waiting, delayed, prioritized), aborted in whichever
 * worker runs it (it fails with `cancelled: <reason>`, never retried), refused with its state if
 * it finished. Idempotent. Audited, refusals included. The one implementation behind
 * `DELETE /api/v1/jobs/{id}`, the board and `task-hub cancel` (the producer lib's `hub.cancel`
 * shares src/core/cancel.ts).
 */
export const cancelJob = async (deps: ControlDeps, ref: JobRef, { reason: raw, who, may }: CancelRequest): Promise<CancelJobResult> => {
  const reason = cancelReason(raw);
  const queues = candidateQueues(ref).map((name) => deps.queue(name));
  return cancelAudited(deps.redis, deps.prefix, { queues, id: typeof ref === 'string' ? ref : ref.id, reason, who, may });
};

/** Cancels several jobs, one after the other, each as cancelJob would (each audited). */
export const cancelJobs = async (deps: ControlDeps, refs: readonly JobRef[], request: CancelRequest): Promise<CancelJobResult[]> => {
  const results: CancelJobResult[] = [];
  for (const ref of refs) results.push(await cancelJob(deps, ref, request));
  return results;
};

export interface CancelledEvent {
  event: string;
  eventId: string;
  /** One per subscriber, in events.ts's order: what cancel did to its job. */
  jobs: CancelJobResult[];
}

/**
 * Cancels every subscriber job of one published event (`order.created` under its event id): the
 * ids follow from (event, id, subscriber), so nothing is looked up but the jobs themselves. An
 * unknown event name is UnknownEventError (with a suggestion); subscribers already finished answer
 * `finished`, so cancelling the rest of a half-run event is one call.
 */
export const cancelEvent = async (deps: ControlDeps, event: string, eventId: string, request: CancelRequest): Promise<CancelledEvent> => {
  const refs = eventJobsOf(event, eventId);
  cancelReason(request.reason);
  return { event, eventId, jobs: await cancelJobs(deps, refs, request) };
};

/**
 * cancelJob for callers that answer errors as ControlErrors (the board's control page, the CLI):
 * an unknown job is 404 (exit 3), a finished one 409 (exit 4) with its state; nothing changed.
 */
export const cancelOrRefuse = async (deps: ControlDeps, id: string, request: CancelRequest): Promise<Exclude<CancelJobResult, { outcome: 'not_found' | 'finished' }>> => {
  const result = await cancelJob(deps, id, request);
  if (result.outcome === 'not_found') throw new ControlError(404, 'job_not_found', `job ${id} not found (never enqueued, or removed by retention)`);
  if (result.outcome === 'finished') throw new ControlError(409, 'job_finished', `job ${id} has ${result.state}: there is nothing to cancel`, { state: result.state });
  return result as Exclude<CancelJobResult, { outcome: 'not_found' | 'finished' }>;
};

/** cancelEvent for the CLI: an event none of whose jobs exists is 404 (exit 3). */
export const cancelEventOrRefuse = async (deps: ControlDeps, event: string, eventId: string, request: CancelRequest): Promise<CancelledEvent> => {
  const result = await cancelEvent(deps, event, eventId, request);
  if (result.jobs.every((j) => j.outcome === 'not_found')) {
    throw new ControlError(404, 'event_not_found', `no job of event ${event} "${eventId}" found (never published, or removed by retention)`);
  }
  return result;
};

/**
 * Cancels a workflow (chain, group, chord) for the control surface (API, board, CLI), as
 * `hub.cancelWorkflow` does: it fails as cancelled, nothing more of it is enqueued, its unfinished
 * jobs are cancelled (each audited as `who`), and the workflow's cancel is audited too. 404 when no
 * such workflow exists; 403, with nothing changed, when the caller may not cancel one of its tasks.
 */
export const cancelWorkflowOrRefuse = async (deps: ControlDeps, id: string, request: CancelRequest): Promise<CancelledWorkflow> => {
  const reason = cancelReason(request.reason);
  const notFound = () => new ControlError(404, 'workflow_not_found', `workflow ${id.slice(0, 100)} not found (never started, or past its retention)`);
  const info = WORKFLOW_ID.test(id) ? await readWorkflow(deps.redis, deps.prefix, id) : undefined;
  if (!info) throw notFound();
  const denied = request.may && info.steps.find((s) => !request.may!(s.task));
  if (denied) {
    throw new ControlError(403, 'forbidden', `${request.who} may not cancel ${denied.task}, which the workflow runs (it needs the scope ${denied.task.split('.')[0]}:cancel, ${denied.task}:cancel or admin)`);
  }
  const cancel = workflowCanceller({ connection: deps.redis, prefix: deps.prefix, guarded: (_what, work, map) => work().then((v) => (map ? map(v) : (v as never))) }, (jobId) =>
    cancelJob(deps, jobId, { ...request, reason }),
  );
  const done = await cancel(id, { reason });
  if (!done) throw notFound();
  await audit(deps.redis, deps.prefix, { who: request.who, action: 'workflow.cancel', target: id, detail: { reason }, outcome: done.outcome });
  return done;
};
