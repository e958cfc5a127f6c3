import { StubService, type RecordedRequest } from '../helpers/stub-service.ts';

/** The job a call belongs to: the fault tasks' `POST /runs/:jobId`, else the hub's `idempotency-key: hub-<queue>-<jobId>`. */
const jobOf = (r: RecordedRequest): string => {
  const run = /^\/runs\/([^/]+)/.exec(r.path);
  if (run) return decodeURIComponent(run[1]!);
  return String(r.headers['idempotency-key'] ?? '').replace(/^hub-[a-z-]+?-(?=[a-z-]+\.)/, '');
};

/**
 * The order service as the fault suite sees it: the suite's stub service (test/helpers), answering
 * the invoice call (and the fault tasks' `POST /runs/:jobId?ms=`) after `delayMs` (or `ms`),
 * with executions counted by job id. It lives in the suite's process, so its counts survive
 * whatever happens to Redis and the workers.
 */
export class CountingService {
  delayMs = 0;
  /** Per-job answer time, over delayMs. */
  delayFor?: (jobId: string) => number;
  /** Executions per job id (an attempt whose call with an effect, not a GET, reached the service counts once). */
  readonly starts = new Map<string, number>();
  /** When each job's first execution reached the service (performance.now() of this process). */
  readonly firstStartAt = new Map<string, number>();
  /** Job ids whose call is being answered right now: the jobs in flight. */
  readonly open = new Set<string>();
  /** Calls whose caller hung up before the answer: the job's process died or aborted it. */
  readonly abandoned = new Set<string>();

  private constructor(private readonly stub: StubService) {
    stub.fallback = (r) => {
      const job = jobOf(r);
      const ms = r.query.ms !== undefined ? Number(r.query.ms) : (this.delayFor?.(job) ?? this.delayMs);
      // Every shipped task the scenarios run reads what it needs from this one body (the GET of an order too).
      return { status: r.path.startsWith('/runs/') ? 200 : 201, body: { invoiceId: `INV-${job}`, cancelled: 0, purged: 0, id: job, status: 'paid' }, delayMs: ms };
    };
    stub.on('request', (r: RecordedRequest) => {
      const job = jobOf(r);
      // A GET reads (order.sendConfirmation re-checks the order first); the call with the effect is what counts.
      if (!job || r.method === 'GET') return;
      this.starts.set(job, (this.starts.get(job) ?? 0) + 1);
      if (!this.firstStartAt.has(job)) this.firstStartAt.set(job, r.at);
      this.open.add(job);
    });
    stub.on('settled', (r: RecordedRequest) => {
      const job = jobOf(r);
      this.open.delete(job);
      if (r.abandoned) this.abandoned.add(job);
    });
    // Tens of thousands of calls per scenario: the counts above are what the suite reads.
    stub.on('settled', () => (stub.requests.length = 0));
  }

  static async start(): Promise<CountingService> {
    return new CountingService(await StubService.start());
  }

  get url(): string {
    return this.stub.url;
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

  close(): Promise<void> {
    return this.stub.close();
  }
}
