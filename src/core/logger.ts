import { pino, type Logger, type LevelWithSilent } from 'pino';

export type { Logger };

/** Keys whose values never reach a log line, wherever they sit in a logged object. */
const SECRET_KEYS = ['password', 'token', 'secret', 'authorization', 'cookie', 'resetToken', 'apiKey', 'redisUrl'];
const redactPaths = SECRET_KEYS.flatMap((k) => [k, `*.${k}`, `*.*.${k}`]);

/**
 * pino's isoTime formats a Date per line; at thousands of lines a second most share their
 * millisecond, so the string is reused until the clock moves.
 */
let lastMs = -1;
let lastTime = '';
const isoTime = (): string => {
  const now = Date.now();
  if (now !== lastMs) {
    lastMs = now;
    lastTime = `,"time":"${new Date(now).toISOString()}"`;
  }
  return lastTime;
};

export interface LoggerOptions {
  level?: LevelWithSilent;
  name: string;
  /** Asynchronous writes keep logging off the job hot path; flushed on shutdown. */
  sync?: boolean;
  destination?: NodeJS.WritableStream | number;
}

/**
 * Asynchronous writes in batches: a line waits until 4 KiB are buffered, or 250 ms at the
 * latest, so a busy worker does one write per dozen lines instead of a thread-pool round trip
 * per job. pino flushes what is left when the process exits.
 */
const BATCH = { minLength: 4_096, periodicFlush: 250 };

export const createLogger = ({ level = 'info', name, sync = false, destination = 1 }: LoggerOptions): Logger =>
  pino(
    {
      name,
      level,
      redact: { paths: redactPaths, censor: '[redacted]' },
      base: { pid: process.pid },
      timestamp: isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    typeof destination === 'number' ? pino.destination({ dest: destination, sync, ...(sync ? {} : BATCH) }) : destination,
  );
