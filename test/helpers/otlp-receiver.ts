import { EventEmitter, once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

type AnyValue = { stringValue?: string; intValue?: number | string; boolValue?: boolean; doubleValue?: number };
type KeyValue = { key: string; value: AnyValue };

/** A span as an OTLP/HTTP JSON export carries it, decoded: ids in hex, attributes as plain values. */
export interface ReceivedSpan {
  service: string;
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  /** OTLP SpanKind: 1 internal, 2 server, 3 client, 4 producer, 5 consumer. */
  kind: number;
  attributes: Record<string, string | number | boolean>;
  links: { traceId: string; spanId: string; attributes: Record<string, string | number | boolean> }[];
  status: { code?: number; message?: string };
}

const plain = (v: AnyValue): string | number | boolean => v.stringValue ?? (v.intValue !== undefined ? Number(v.intValue) : (v.boolValue ?? v.doubleValue ?? ''));
const attributesOf = (list: KeyValue[] = []) => Object.fromEntries(list.map((a) => [a.key, plain(a.value)]));

/**
 * A small OTLP/HTTP receiver (what a collector exposes on :4318): decodes the JSON exports that
 * hub processes send to `POST /v1/traces` and keeps their spans. Emits 'spans' per export.
 */
export class OtlpReceiver extends EventEmitter {
  readonly spans: ReceivedSpan[] = [];
  /** Content types of the exports received (the hub's exporter sends JSON). */
  readonly contentTypes: string[] = [];
  private server!: Server;

  static async start(): Promise<OtlpReceiver> {
    const receiver = new OtlpReceiver();
    receiver.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        if (req.method !== 'POST' || req.url !== '/v1/traces') return void res.writeHead(404).end();
        receiver.contentTypes.push(String(req.headers['content-type']));
        try {
          receiver.add(JSON.parse(Buffer.concat(chunks).toString('utf8')));
        } catch {
          return void res.writeHead(400).end();
        }
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    receiver.server.listen(0, '127.0.0.1');
    await once(receiver.server, 'listening');
    return receiver;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  private add(body: { resourceSpans?: { resource?: { attributes?: KeyValue[] }; scopeSpans?: { spans?: Record<string, unknown>[] }[] }[] }) {
    const added: ReceivedSpan[] = [];
    for (const rs of body.resourceSpans ?? []) {
      const service = String(attributesOf(rs.resource?.attributes)['service.name'] ?? '');
      for (const ss of rs.scopeSpans ?? []) {
        for (const s of ss.spans ?? []) {
          added.push({
            service,
            traceId: s.traceId as string,
            spanId: s.spanId as string,
            parentSpanId: (s.parentSpanId as string) || undefined,
            name: s.name as string,
            kind: s.kind as number,
            attributes: attributesOf(s.attributes as KeyValue[]),
            links: ((s.links as { traceId: string; spanId: string; attributes?: KeyValue[] }[]) ?? []).map((l) => ({ traceId: l.traceId, spanId: l.spanId, attributes: attributesOf(l.attributes) })),
            status: (s.status as ReceivedSpan['status']) ?? {},
          });
        }
      }
    }
    this.spans.push(...added);
    this.emit('spans', added);
  }

  /** Resolves once the spans received so far satisfy `done` (checked at each export); fails after timeoutMs. */
  waitFor(done: (spans: readonly ReceivedSpan[]) => boolean, timeoutMs = 20_000): Promise<void> {
    if (done(this.spans)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.off('spans', check);
        reject(new Error(`spans never matched within ${timeoutMs} ms; got: ${this.spans.map((s) => `${s.service}:${s.name}`).join(', ')}`));
      }, timeoutMs);
      const check = () => {
        if (!done(this.spans)) return;
        clearTimeout(timer);
        this.off('spans', check);
        resolve();
      };
      this.on('spans', check);
    });
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((r) => this.server.close(r));
  }
}
