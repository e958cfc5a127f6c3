import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { drain, type DrainResult, type Env } from './scenarios.ts';
import { bench } from './tasks.ts';

/** A local OTLP/HTTP endpoint that takes the exports and counts their spans. */
const startSink = async () => {
  let spans = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      spans += body.match(/"spanId"/g)?.length ?? 0;
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    spans: () => spans,
    close: () => new Promise((r) => server.close(r)),
  };
};

/**
 * The HTTP-call drain with tracing on, exporting to a local receiver: jobs that carry a trace
 * context (as a traced producer writes them), so each job makes an attempt span and a client
 * span. Measured beside the same drain untraced and raw BullMQ, so the cost per job is the
 * traced worker's CPU per job minus the untraced one's, from the same round.
 */
export const tracedDrain = async (env: Env, n: number, concurrency: number): Promise<{ traced: DrainResult; untraced: DrainResult; raw: DrainResult; spansPerJob: number }> => {
  const sink = await startSink();
  try {
    const traced = await drain(env, 'hub', bench.benchHttp, n, concurrency, sink.url);
    const spansPerJob = sink.spans() / n;
    const untraced = await drain(env, 'hub', bench.benchHttp, n, concurrency);
    const raw = await drain(env, 'raw', bench.benchHttp, n, concurrency);
    return { traced, untraced, raw, spansPerJob };
  } finally {
    await sink.close();
  }
};
