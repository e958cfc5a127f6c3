import { createRequire } from 'node:module';
import { pino, type DestinationStream, type Logger, type LevelWithSilent } from 'pino';
import { catalog, type AnyContract } from '../contracts/index.ts';
import { BatchedLines } from './log-destination.ts';

export type { Logger };

/**
 * Keys whose values never reach a log line, wherever they sit in a logged object (up to two
 * levels down): the usual secret names, and every field a task contract marks `sensitive`.
 */
const SECRET_KEYS = ['password', 'token', 'secret', 'authorization', 'cookie', 'apiKey', 'redisUrl'];
const sensitiveFields = Object.values(catalog as Record<string, AnyContract>).flatMap((c) => c.sensitive);
const keyPath = (k: string) => (/^[A-Za-z_$][\w$]*$/.test(k) ? k : `[${JSON.stringify(k)}]`);
const redactPaths = [...new Set([...SECRET_KEYS, ...sensitiveFields])].map(keyPath).flatMap((k) => {
  const nested = k.startsWith('[') ? k : `.${k}`;
  return [k, `*${nested}`, `*.*${nested}`];
});

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
  /** json (default) or pretty: pino-pretty, for a person at a terminal (LOG_FORMAT). */
  format?: 'json' | 'pretty';
}

/**
 * pino-pretty is a development dependency (the production image does not have it, and
 * LOG_FORMAT=pretty is refused in production), so it is loaded only when asked for.
 */
const prettyStream = (destination: NodeJS.WritableStream | number): DestinationStream => {
  const pretty = createRequire(import.meta.url)('pino-pretty') as typeof import('pino-pretty');
  const tty = typeof destination === 'number' ? process.stdout.isTTY && destination === 1 : false;
  return pretty({ destination, sync: true, colorize: tty, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' });
};

export const createLogger = ({ level = 'info', name, destination = 1, format = 'json' }: LoggerOptions): Logger =>
  pino(
    {
      name,
      level,
      redact: { paths: redactPaths, censor: '[redacted]' },
      base: { pid: process.pid },
      timestamp: isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    format === 'pretty' ? prettyStream(destination) : typeof destination === 'number' ? new BatchedLines(destination) : destination,
  );
