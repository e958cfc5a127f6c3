import { z } from 'zod';

/**
 * Workflows (Celery's canvas): a chain runs steps in order, a group runs members in parallel, a
 * chord is a group plus a callback that gets the group's results. This schema is the written form
 * everywhere: `hub.chain/group/chord` build it, `POST /api/v1/workflows` takes it as its body and
 * the catalog publishes its JSON Schema. Each step names a task by its contract name.
 */

/** Most members (group, chord) or steps (chain) a workflow may have, unless the producer sets its own. */
export const DEFAULT_MAX_WORKFLOW_MEMBERS = 10_000;

/** Caller-chosen workflow ids also name its jobs (`<queue>.wf-<id>-<step>`): no `.` or `:`. */
export const WORKFLOW_ID = /^[A-Za-z0-9_-]{1,100}$/;

/**
 * A payload field filled from the previous step's result when this step is enqueued: `{ orderId:
 * 'order.id' }` takes `result.order.id`; `'$'` is the whole result (a chord callback's is the
 * members' results, `MemberResult[]`). Steps are immutable by default: without `from` the payload
 * is used as written.
 */
export const StepMapping = z.record(z.string().min(1).max(100), z.string().min(1).max(200));

export const WorkflowStep = z.strictObject({
  task: z.string().min(1).max(200),
  payload: z.unknown().optional(),
  from: StepMapping.optional(),
});
export type WorkflowStepSpec = z.infer<typeof WorkflowStep>;

const steps = z.array(WorkflowStep).min(1);

export const WorkflowSpec = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('chain'), steps }),
  z.strictObject({ type: z.literal('group'), members: steps }),
  z.strictObject({
    type: z.literal('chord'),
    members: steps,
    callback: WorkflowStep,
    /** 'stop' (default, as Celery): a member failed for good means no callback. 'continue': it runs with the failures listed. */
    onMemberFailure: z.enum(['stop', 'continue']).optional(),
  }),
]);
export type WorkflowSpec = z.infer<typeof WorkflowSpec>;
export type WorkflowType = WorkflowSpec['type'];

/** One member's outcome, in member order: a group's result, and what a chord callback receives. */
export const MemberResult = z.strictObject({
  index: z.int().min(0),
  ok: z.boolean(),
  result: z.unknown().optional(),
  error: z.string().optional(),
});
export type MemberResult = z.infer<typeof MemberResult>;
