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
  /** The client hung up before the answer was sent (an aborted request). */
  abandoned?: boolean;
}

export interface Reply {
  status: number;
  body?: unknown;
  /** Hold the answer until this resolves (for timeouts and shutdown tests). */
  until?: Promise<unknown>;
}

type Route = { method: string; pattern: RegExp; replies: Reply[] };

const toPattern = (path: string) => new RegExp(`^${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/:[a-zA-Z]+/g, '[^/]+')}$`);

/**
 * A real microservice on an ephemeral loopback port: records every request and answers from
 * scripted replies (sequential; the last one repeats). Unscripted routes answer 200 `{}`.
 */
export class StubService extends EventEmitter {
  readonly requests: RecordedRequest[] = [];
  private routes: Route[] = [];
  private server!: Server;

  static async start(): Promise<StubService> {
    const stub = new StubService();
    const app = express();
    app.use(express.json());
    app.use((req, res) => {
      const recorded: RecordedRequest = { method: req.method, path: req.path, query: { ...req.query }, headers: req.headers, body: req.body };
      res.on('close', () => {
        if (!res.writableFinished) recorded.abandoned = true;
      });
      stub.requests.push(recorded);
      stub.emit('request', recorded);
      const route = stub.routes.find((r) => r.method === req.method && r.pattern.test(req.path));
      const reply = route ? (route.replies.length > 1 ? route.replies.shift()! : route.replies[0]!) : { status: 200, body: {} };
      const send = () => (res.headersSent ? undefined : res.status(reply.status).json(reply.body ?? {}));
      if (reply.until) void reply.until.then(send, send);
      else send();
    });
    stub.server = app.listen(0, '127.0.0.1');
    await once(stub.server, 'listening');
    return stub;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Scripts the answers of `METHOD /path/:param`. */
  reply(method: string, path: string, ...replies: (Reply | number)[]): this {
    const normalised = replies.map((r) => (typeof r === 'number' ? { status: r } : r));
    this.routes.unshift({ method, pattern: toPattern(path), replies: normalised });
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
    this.removeAllListeners('request');
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((r) => this.server.close(r));
  }
}
