/**
 * How a cancel reaches a job running in a child process (a sandboxed queue's, or a crash
 * suspect's): as the reason of the abort BullMQ forwards over IPC (as JSON, so a string; an
 * Error would arrive as {}). Any other reason (the shutdown's) interrupts the job instead.
 */
const MARK = 'hub-cancel: ';

export const childCancel = (reason: string): string => MARK + reason;

export const cancelReasonIn = (abortReason: unknown): string | undefined =>
  typeof abortReason === 'string' && abortReason.startsWith(MARK) ? abortReason.slice(MARK.length) : undefined;
