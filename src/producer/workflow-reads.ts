import type { CancelJobResult } from '../core/cancel.ts';
import { WaitTimeoutError, WorkflowFailedError, WorkflowNotFoundError } from '../core/errors.ts';
import { whenReady } from '../core/redis.ts';
import { WORKFLOW_ID } from '../contracts/workflow.ts';
import { cancelWorkflowState, workflowKey } from '../core/workflow/scripts.ts';
import { readWorkflow, type WorkflowInfo } from '../core/workflow/state.ts';
import type { WorkflowDeps } from './workflows.ts';

export interface CancelledWorkflow {
  workflowId: string;
  /** cancelled: it was running and is now failed with `cancelled: <reason>`; finished: it was over already. */
  outcome: 'cancelled' | 'finished';
  /** Each step job that had not finished, as hub.cancel answered for it. */
  jobs: CancelJobResult[];
}

/**
 * `hub.cancelWorkflow`: marks the workflow failed first (no later step or callback is enqueued
 * after that), then cancels every step job not finished: waiting ones are removed, running ones
 * aborted (they fail as cancelled). Undefined for an unknown workflow.
 */
export const workflowCanceller =
  (deps: Pick<WorkflowDeps, 'connection' | 'prefix' | 'guarded'>, cancelJob: (id: string, opts: { reason: string }) => Promise<CancelJobResult>) =>
  async (id: string, { reason = 'cancelled by request' }: { reason?: string } = {}): Promise<CancelledWorkflow | undefined> => {
    if (typeof id !== 'string' || !WORKFLOW_ID.test(id)) return undefined;
    const outcome = await deps.guarded(`could not cancel workflow ${id}`, async () => {
      await whenReady(deps.connection);
      return cancelWorkflowState(deps.connection, workflowKey(deps.prefix, id), `cancelled: ${reason}`);
    });
    if (outcome === 'gone') return undefined;
    const info = await readWorkflow(deps.connection, deps.prefix, id);
    const open = (info?.steps ?? []).filter((s) => s.state === 'enqueued');
    const jobs = await Promise.all(open.map((s) => cancelJob(s.jobId, { reason })));
    return { workflowId: id, outcome, jobs };
  };

export const workflowReader = (deps: WorkflowDeps) => ({
  get: (id: string): Promise<WorkflowInfo | undefined> =>
    typeof id === 'string' && WORKFLOW_ID.test(id) ? deps.guarded(`could not read workflow ${id}`, async () => {
          await whenReady(deps.connection);
          return readWorkflow(deps.connection, deps.prefix, id);
        }) : Promise.resolve(undefined),

  /**
   * The workflow's result once it is over (WorkflowFailedError if it failed; a group's carries
   * every member's outcome). Reads the state field with a growing pause (20 ms to 250 ms): one
   * small command per read, on the workflow's own slot.
   */
  async wait(id: string, timeoutMs: number): Promise<unknown> {
    const key = workflowKey(deps.prefix, id);
    const deadline = Date.now() + timeoutMs;
    await whenReady(deps.connection, timeoutMs);
    for (let pause = 20; ; pause = Math.min(250, pause * 2)) {
      const [type, state] = await deps.connection.hmget(key, 'type', 'state');
      if (!type) throw new WorkflowNotFoundError(id);
      if (state === 'completed' || state === 'failed') {
        const info = (await readWorkflow(deps.connection, deps.prefix, id))!;
        if (info.state === 'completed') return info.result;
        throw new WorkflowFailedError(id, info.error ?? 'unknown', info.failedStep, info.result);
      }
      if (Date.now() + pause > deadline) throw new WaitTimeoutError(`workflow ${id} did not finish within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, pause));
    }
  },
});
