import type { EventEmitter } from 'node:events';
import { Job, QueueEvents, type Queue } from 'bullmq';
import type { RedisClient } from '../core/redis.ts';
import { JobFailedError, JobNotFoundError, WaitTimeoutError } from '../core/errors.ts';

type Outcome = { ok: true; result: unknown } | { ok: false; reason: string };

/**
 * Waits for job results through one QueueEvents reader per queue. Unlike raw waitUntilFinished
 * it works when the job finished before the wait began, and after retention removed the job:
 * the reader starts at the stream position seen before the job's state is read, and a removed
 * job's outcome is looked up in the events stream.
 */
export class ResultWaiter {
  private readonly readers = new Map<string, Promise<QueueEvents>>();
  private readonly connections: RedisClient[] = [];

  constructor(
    private readonly client: RedisClient,
    private readonly blockingConnection: () => RedisClient,
    private readonly onError: (err: Error) => void,
  ) {}

  async wait(queue: Queue, jobId: string, timeoutMs: number): Promise<unknown> {
    const deadline = Date.now() + timeoutMs;
    const events = (await this.readerFor(queue)) as unknown as EventEmitter;
    let detach = () => {};
    const fromEvents = new Promise<Outcome>((resolve) => {
      const done = (args: { returnvalue?: unknown; failedReason?: string }, ok: boolean) =>
        resolve(ok ? { ok, result: args.returnvalue } : { ok, reason: args.failedReason ?? 'unknown' });
      const onCompleted = (args: { returnvalue: unknown }) => done(args, true);
      const onFailed = (args: { failedReason: string }) => done(args, false);
      events.once(`completed:${jobId}`, onCompleted);
      events.once(`failed:${jobId}`, onFailed);
      detach = () => {
        events.off(`completed:${jobId}`, onCompleted);
        events.off(`failed:${jobId}`, onFailed);
      };
    });
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new WaitTimeoutError(`job ${jobId} did not finish within ${timeoutMs} ms`)),
        Math.max(0, deadline - Date.now()),
      );
    });
    try {
      const outcome = await Promise.race([fromEvents, this.finishedAlready(queue, jobId), timeout]);
      if (!outcome.ok) throw new JobFailedError(jobId, outcome.reason);
      return outcome.result;
    } finally {
      clearTimeout(timer);
      detach();
    }
  }

  async close(): Promise<void> {
    const readers = await Promise.allSettled(this.readers.values());
    this.readers.clear();
    await Promise.all(readers.map((r) => (r.status === 'fulfilled' ? r.value.close() : undefined)));
    // QueueEvents leaves a connection it was handed open: ours to close.
    for (const c of this.connections.splice(0)) c.disconnect();
  }

  /** Resolves only if the job is already finished (or gone with its outcome in the stream); else never. */
  private async finishedAlready(queue: Queue, jobId: string): Promise<Outcome> {
    // State first: a job read before it finished would carry no return value.
    const state = await queue.getJobState(jobId);
    if (state === 'completed' || state === 'failed') {
      const job = await Job.fromId(queue, jobId);
      if (job) return state === 'completed' ? { ok: true, result: job.returnvalue } : { ok: false, reason: job.failedReason };
    } else if (state !== 'unknown') {
      return new Promise<never>(() => {});
    }
    const logged = await this.outcomeInStream(queue, jobId);
    if (logged) return logged;
    throw new JobNotFoundError(jobId);
  }

  private async outcomeInStream(queue: Queue, jobId: string): Promise<Outcome | undefined> {
    const client = this.client;
    const key = queue.keys.events!;
    let end = '+';
    for (;;) {
      const page = (await client.xrevrange(key, end, '-', 'COUNT', 1_000)) as [string, string[]][];
      for (const [, fields] of page) {
        const f: Record<string, string> = {};
        for (let i = 0; i < fields.length; i += 2) f[fields[i]!] = fields[i + 1]!;
        if (f.jobId !== jobId) continue;
        if (f.event === 'completed') return { ok: true, result: JSON.parse(f.returnvalue ?? 'null') };
        if (f.event === 'failed') return { ok: false, reason: f.failedReason ?? 'unknown' };
      }
      if (page.length < 1_000) return undefined;
      end = `(${page.at(-1)![0]}`;
    }
  }

  private readerFor(queue: Queue): Promise<QueueEvents> {
    let reader = this.readers.get(queue.name);
    if (!reader) {
      reader = this.startReader(queue);
      reader.catch(() => this.readers.delete(queue.name));
      this.readers.set(queue.name, reader);
    }
    return reader;
  }

  private async startReader(queue: Queue): Promise<QueueEvents> {
    await queue.waitUntilReady();
    const [last] = (await this.client.xrevrange(queue.keys.events!, '+', '-', 'COUNT', 1)) as [string, string[]][];
    const connection = this.blockingConnection();
    this.connections.push(connection);
    const events = new QueueEvents(queue.name, {
      connection,
      prefix: queue.opts.prefix,
      lastEventId: last?.[0] ?? '0-0',
    });
    events.on('error', this.onError);
    events.setMaxListeners(0);
    await events.waitUntilReady();
    return events;
  }
}
