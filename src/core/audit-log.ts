import type { RedisClient } from './redis.ts';

/**
 * The audit log of control actions (cancel, replay, pause...): who did what to what, and how it
 * ended; when is the stream entry's id. A capped Redis stream under a hash tag of its own. In
 * core because the producer lib (which may import only core and contracts) records its own
 * cancels; src/control/audit.ts is where the API, the board and the CLI take it from.
 */
export const auditKey = (hubPrefix: string): string => `{${hubPrefix}-audit}:log`;
export const AUDIT_MAX = 10_000;

export interface AuditInput {
  /** `api:<client>`, `board:<account>`, `cli:<os user>`, `service:<name>` (the producer lib). */
  who: string;
  /** `job.cancel`, `replay`, `schedule.pause`... */
  action: string;
  /** What it acted on: a job id, a schedule id, a queue, a filter's task. */
  target: string;
  detail?: Record<string, unknown>;
  /** How it ended: `removed`, `aborting`, `not_found`, `forbidden`... */
  outcome: string;
}

export interface AuditEntry extends AuditInput {
  id: string;
  /** Epoch ms, from the stream entry's id. */
  at: number;
}

/** Appends one entry (XADD MAXLEN ~ AUDIT_MAX): every control action calls it once. */
export const audit = async (redis: RedisClient, hubPrefix: string, entry: AuditInput): Promise<string> => {
  const fields = ['who', entry.who, 'action', entry.action, 'target', entry.target, 'outcome', entry.outcome];
  if (entry.detail) fields.push('detail', JSON.stringify(entry.detail));
  return (await redis.xadd(auditKey(hubPrefix), 'MAXLEN', '~', AUDIT_MAX, '*', ...fields))!;
};

const toEntry = ([id, flat]: [string, string[]]): AuditEntry => {
  const f: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) f[flat[i]!] = flat[i + 1]!;
  let detail: Record<string, unknown> | undefined;
  try {
    detail = f.detail ? (JSON.parse(f.detail) as Record<string, unknown>) : undefined;
  } catch {
    detail = { unreadable: f.detail };
  }
  return { id, at: Number(id.split('-')[0]), who: f.who ?? '', action: f.action ?? '', target: f.target ?? '', outcome: f.outcome ?? '', ...(detail ? { detail } : {}) };
};

export interface ReadAuditOptions {
  /** Newest first, at most this many (1..500). */
  limit?: number;
  /** Entries older than this stream id (paging: the last id of the previous page). */
  before?: string;
}

/** Newest first. */
export const readAudit = async (redis: RedisClient, hubPrefix: string, { limit = 50, before }: ReadAuditOptions = {}): Promise<AuditEntry[]> => {
  const end = before ? `(${before}` : '+';
  const raw = (await redis.xrevrange(auditKey(hubPrefix), end, '-', 'COUNT', Math.min(Math.max(limit, 1), 500))) as [string, string[]][];
  return raw.map(toEntry);
};
