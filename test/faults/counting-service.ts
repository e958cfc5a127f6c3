import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * The order service as the fault suite sees it: answers the invoice call (and the fault tasks'
 * `POST /runs/:jobId?ms=`) after `delayMs` (or `ms`), and counts every execution by job id. It lives in the
 * suite's process, so its counts survive whatever happens to Redis and the workers.
 */
export class CountingService {
  delayMs = 0;
  /** Per-job answer time, over delayMs. */
  delayFor?: (jobId: string) => number;
  /** Executions per job id (an attempt that reached the service counts once). */
  readonly starts = new Map<string, number>();
  /** Job ids whose call is being answered right now: the jobs in flight. */
  readonly open = new Set<string>();
  /** Calls whose caller hung up before the answer: the job's process died or aborted it. */
  readonly abandoned = new Set<string>();
  private server!: Server;

  static async start(): Promise<CountingService> {
    const s = new CountingService();
    s.server = createServer((req, res) => s.handle(req, res));
    s.server.keepAliveTimeout = 60_000;
    s.server.listen(0, '127.0.0.1');
    await once(s.server, 'listening');
    return s;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Jobs that ran more than once. */
  duplicates(): string[] {
    return [...this.starts].filter(([, n]) => n > 1).map(([id]) => id);
  }

  executions(): number {
    let n = 0;
    for (const c of this.starts.values()) n += c;
    return n;
  }

  private handle(req: IncomingMessage, res: ServerResponse) {
    req.resume();
    const run = /^\/runs\/([^/?]+)/.exec(req.url ?? '');
    // The hub sends `idempotency-key: hub-<queue>-<jobId>` on every call a job makes.
    const key = run ? decodeURIComponent(run[1]!) : String(req.headers['idempotency-key'] ?? '').replace(/^hub-[a-z-]+?-(?=[a-z-]+\.)/, '');
    if (!key) return res.writeHead(400).end();
    this.starts.set(key, (this.starts.get(key) ?? 0) + 1);
    this.open.add(key);
    let answered = false;
    const answer = () => {
      answered = true;
      this.open.delete(key);
      if (res.destroyed) return;
      res.writeHead(run ? 200 : 201, { 'content-type': 'application/json' }).end(JSON.stringify({ invoiceId: `INV-${key}`, cancelled: 0, purged: 0 }));
    };
    res.on('close', () => {
      this.open.delete(key);
      if (!answered) this.abandoned.add(key);
    });
    const delay = Number(new URL(req.url ?? '/', 'http://x').searchParams.get('ms') ?? this.delayFor?.(key) ?? this.delayMs);
    if (delay > 0) setTimeout(answer, delay);
    else answer();
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((r) => this.server.close(r));
  }
}
