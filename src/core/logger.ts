import { pino, type Logger, type LevelWithSilent } from 'pino';
import { BatchedLines } from './log-destination.ts';

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
  destination?: NodeJS.WritableStream | number;
}

export const createLogger = ({ level = 'info', name, destination = 1 }: LoggerOptions): Logger =>
  pino(
    {
      name,
      level,
      redact: { paths: redactPaths, censor: '[redacted]' },
      base: { pid: process.pid },
      timestamp: isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    typeof destination === 'number' ? new BatchedLines(destination) : destination,
  );
