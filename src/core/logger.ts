import { pino, type Logger, type LevelWithSilent } from 'pino';

export type { Logger };

/** Keys whose values never reach a log line, wherever they sit in a logged object. */
const SECRET_KEYS = ['password', 'token', 'secret', 'authorization', 'cookie', 'resetToken', 'apiKey', 'redisUrl'];
const redactPaths = SECRET_KEYS.flatMap((k) => [k, `*.${k}`, `*.*.${k}`]);

export interface LoggerOptions {
  level?: LevelWithSilent;
  name: string;
  /** Asynchronous writes keep logging off the job hot path; flushed on shutdown. */
  sync?: boolean;
  destination?: NodeJS.WritableStream | number;
}

export const createLogger = ({ level = 'info', name, sync = false, destination = 1 }: LoggerOptions): Logger =>
  pino(
    {
      name,
      level,
      redact: { paths: redactPaths, censor: '[redacted]' },
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    typeof destination === 'number' ? pino.destination({ dest: destination, sync }) : destination,
  );
