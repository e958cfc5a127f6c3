import { EventEmitter, once } from 'node:events';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import express from 'express';

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, unknown>;
  headers: Record<string, string | string[] | undefined>;
  body: unknown;
  /** performance.now() at arrival. */
  at: number;
  /** The answer went out. */
  answered?: boolean;
  /** The client hung up before the answer was sent (an aborted request). */
  abandoned?: boolean;
  /** performance.now() when it was answered or abandoned. */
  settledAt?: number;
}

export interface Reply {
  status: number;
  body?: unknown;
  /** Hold the answer until this resolves (for timeouts and shutdown tests). */
  until?: Promise<unknown>;
  /** Answer after this many ms. */
  delayMs?: number;
  /** Response headers, e.g. `{ 'retry-after': '2' }`. */
  headers?: Record<string, string>;
}

/** A scripted answer, or one computed from the request. */
export type ReplySpec = Reply | number | ((request: RecordedRequest) => Reply);

type Route = { method: string; pattern: RegExp; replies: ReplySpec[] };

const toPattern = (path: string) => new RegExp(`^${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/:[a-zA-Z]+/g, '[^/]+')}$`);
const resolveReply = (spec: ReplySpec, request: RecordedRequest): Reply =>
  typeof spec === 'number' ? { status: spec } : typeof spec === 'function' ? spec(request) : spec;

/**
 * A real microservice on an ephemeral loopback port: records every request and answers from
 * scripted replies (sequential; the last one repeats). Unscripted routes get `fallback`
 * (200 `{}` unless set). Emits 'request' on arrival and 'settled' when a request is answered
 * or abandoned. The one stub of the suite: the tests, the fault scenarios and `npm start`'s check.
 */
export class StubService extends EventEmitter {
  readonly requests: RecordedRequest[] = [];
  /** Requests being answered right now. */
  readonly open = new Set<RecordedRequest>();
  fallback: ReplySpec = { status: 200, body: {} };
  private routes: Route[] = [];
  private server!: Server;

  static async start(): Promise<StubService> {
    const stub = new StubService();
    const app = express();
    app.use(express.json());
    app.use((req, res) => {
      const recorded: RecordedRequest = { method: req.method, path: req.path, query: { ...req.query }, headers: req.headers, body: req.body, at: performance.now() };
      stub.requests.push(recorded);
      stub.open.add(recorded);
      res.on('close', () => {
        recorded.settledAt = performance.now();
        stub.open.delete(recorded);
        if (res.writableFinished) recorded.answered = true;
        else recorded.abandoned = true;
        stub.emit('settled', recorded);
      });
      stub.emit('request', recorded);
      const route = stub.routes.find((r) => r.method === req.method && r.pattern.test(req.path));
      const spec = route ? (route.replies.length > 1 ? route.replies.shift()! : route.replies[0]!) : stub.fallback;
      const reply = resolveReply(spec, recorded);
      const send = () => (res.headersSent || res.destroyed ? undefined : res.status(reply.status).set(reply.headers ?? {}).json(reply.body ?? {}));
      if (reply.until) void reply.until.then(send, send);
      else if (reply.delayMs) setTimeout(send, reply.delayMs);
      else send();
    });
    stub.server = app.listen(0, '127.0.0.1');
    stub.server.keepAliveTimeout = 60_000;
    await once(stub.server, 'listening');
    return stub;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Scripts the answers of `METHOD /path/:param`. */
  reply(method: string, path: string, ...replies: ReplySpec[]): this {
    this.routes.unshift({ method, pattern: toPattern(path), replies });
    return this;
  }

  /** Resolves with the first request (already received or future) that matches. */
  async waitFor(method: string, path: string): Promise<RecordedRequest> {
    const pattern = toPattern(path);
    const matches = (r: RecordedRequest) => r.method === method && pattern.test(r.path);
    const seen = this.requests.find(matches);
    if (seen) return seen;
    return new Promise((resolve) => {
      const listener = (r: RecordedRequest) => {
        if (!matches(r)) return;
        this.off('request', listener);
        resolve(r);
      };
      this.on('request', listener);
    });
  }

  calls(method: string, path: string): RecordedRequest[] {
    const pattern = toPattern(path);
    return this.requests.filter((r) => r.method === method && pattern.test(r.path));
  }

  reset(): void {
    this.requests.length = 0;
    this.routes = [];
    this.fallback = { status: 200, body: {} };
    this.removeAllListeners('request');
    this.removeAllListeners('settled');
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((r) => this.server.close(r));
  }
}
