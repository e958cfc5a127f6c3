import { duplicateBlocking, type RedisClient } from '../core/redis.ts';
import { cancelChannel, type CancelMessage } from '../core/cancel.ts';
import { CANCELLED_PREFIX } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import type { HubWorker } from './hub-worker.ts';

export interface CancelListenerOptions {
  /** Duplicated for the subscriber; also reads the marks after a reconnect. */
  connection: RedisClient;
  /** Names the subscriber connection (`<prefix>:hub-cancel-listener` in CLIENT LIST). */
  prefix: string;
  workers: readonly HubWorker[];
  log: Logger;
  /** Aborts job `id` of `queue` if it runs in this process (or its children); false if it does not, or not yet. */
  cancelRunning(queue: string, id: string, reason: string): boolean;
}

export interface CancelListener {
  close(): Promise<void>;
}

/** A job taken from Redis whose attempt has not started yet is looked for again this often, this many times. */
const RETRY_MS = 20;
const RETRIES = 50;

/**
 * One subscriber connection per worker process, on the cancel channel of each queue it serves
 * (src/core/cancel.ts): a cancel aborts the attempt wherever it runs. Nothing per job: the
 * channel is quiet unless someone cancels a running job. The job itself carries the mark, so a
 * message missed while the connection was down is caught by reading the marks of the jobs held
 * here once it is back.
 */
export const listenForCancels = async ({ connection, prefix, workers, log, cancelRunning }: CancelListenerOptions): Promise<CancelListener> => {
  const byChannel = new Map(workers.map((w) => [cancelChannel(w.opts.prefix!), w]));
  const subscriber = duplicateBlocking(connection, `${prefix}:hub-cancel-listener`);
  subscriber.on('error', () => {}); // the worker's own connection reports Redis trouble

  const deliver = (worker: HubWorker, id: string, reason: string, tries = 0): void => {
    if (cancelRunning(worker.name, id, reason)) {
      log.info({ queue: worker.name, jobId: id, reason }, 'job cancelled: aborting its attempt');
      return;
    }
    // Taken from Redis but not started yet: its attempt is about to exist.
    if (tries < RETRIES && worker.runningJobIds().includes(id)) setTimeout(() => deliver(worker, id, reason, tries + 1), RETRY_MS).unref();
  };

  subscriber.on('message', (channel: string, raw: string) => {
    const worker = byChannel.get(channel);
    let message: Partial<CancelMessage>;
    try {
      message = JSON.parse(raw) as Partial<CancelMessage>;
    } catch {
      return;
    }
    if (worker && typeof message.id === 'string' && typeof message.reason === 'string') deliver(worker, message.id, message.reason);
  });

  /** The marks of every job held here: a cancel published while the subscriber was away. */
  const recheck = async () => {
    for (const worker of workers) {
      const ids = worker.runningJobIds();
      if (!ids.length) continue;
      const marks = await connection.pipeline(ids.map((id) => ['hget', worker.toKey(id), 'defa'])).exec();
      ids.forEach((id, i) => {
        const mark = marks?.[i]?.[1];
        if (typeof mark === 'string' && mark.startsWith(CANCELLED_PREFIX)) deliver(worker, id, mark.slice(CANCELLED_PREFIX.length));
      });
    }
  };

  let connectedBefore = false;
  subscriber.on('ready', () => {
    if (!connectedBefore) return void (connectedBefore = true);
    // ioredis subscribes again by itself; subscribing once more here answers only once the server
    // has the subscriptions, so nothing published after the re-check can be missed.
    void subscriber
      .subscribe(...byChannel.keys())
      .then(recheck)
      .catch((err: Error) => log.warn({ err: err.message }, 'cancel listener: could not re-check running jobs after a reconnect'));
  });
  await subscriber.subscribe(...byChannel.keys());

  return {
    async close() {
      subscriber.disconnect();
    },
  };
};
