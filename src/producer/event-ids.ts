import { createHash } from 'node:crypto';

/**
 * The job of one subscriber of one event: the same (event, event id, task) always names the same
 * job, so a publish retried after a timeout, or after it stopped half-way, adds only the jobs still
 * missing, and GET /api/v1/events/{name}/{eventId} finds them without an index. Not scoped to the
 * publisher: the event id names the event, whoever sends it.
 */
export const eventJobId = (queue: string, event: string, eventId: string, task: string): string =>
  `${queue}.e-${createHash('sha256').update(event).update('\0').update(eventId).update('\0').update(task).digest('base64url').slice(0, 32)}`;
