import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import tls from 'node:tls';
import type { Agents } from 'got';

/**
 * Routes a call through an HTTP proxy without a proxy package (got has no proxy support of its
 * own): plain http targets get the absolute-form request line a forward proxy expects; https
 * targets a CONNECT tunnel, TLS end to end. One keep-alive agent pair per proxy URL.
 */
const authorization = (proxy: URL): string | undefined =>
  proxy.username ? `Basic ${Buffer.from(`${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`).toString('base64')}` : undefined;

type AddRequest = (req: http.ClientRequest, options: http.RequestOptions) => void;

class HttpViaProxy extends http.Agent {
  constructor(private readonly proxy: URL) {
    super({ keepAlive: true });
    const addRequest = (this as unknown as { addRequest: AddRequest }).addRequest.bind(this);
    // Node's Agent calls addRequest before the request line is written: the target goes into it.
    (this as unknown as { addRequest: AddRequest }).addRequest = (req, options) => {
      req.path = `http://${options.host}:${options.port ?? 80}${req.path}`;
      const auth = authorization(proxy);
      if (auth) req.setHeader('proxy-authorization', auth);
      addRequest(req, options);
    };
  }

  override createConnection(): net.Socket {
    return net.connect({ host: this.proxy.hostname, port: Number(this.proxy.port) || 80 });
  }
}

class HttpsViaProxy extends https.Agent {
  constructor(private readonly proxy: URL) {
    super({ keepAlive: true });
  }

  // Node's Agent takes the socket from the callback when createConnection returns nothing.
  override createConnection(requestOptions: http.RequestOptions, callback?: (err: Error | null, stream: Duplex) => void): Duplex | null | undefined {
    const options = requestOptions as tls.ConnectionOptions & { host?: string; port?: number };
    const done = callback as ((err: Error | null, socket?: Duplex) => void) | undefined;
    const target = `${options.host}:${options.port ?? 443}`;
    const auth = authorization(this.proxy);
    const connect = http.request({
      host: this.proxy.hostname,
      port: Number(this.proxy.port) || 80,
      method: 'CONNECT',
      path: target,
      headers: { host: target, ...(auth ? { 'proxy-authorization': auth } : {}) },
    });
    connect.once('connect', (res, socket) => {
      if (res.statusCode !== 200) {
        socket.destroy();
        return done?.(new Error(`proxy ${this.proxy.host} refused CONNECT ${target}: ${res.statusCode}`));
      }
      done?.(null, tls.connect({ ...options, socket, servername: options.servername ?? options.host }));
    });
    connect.once('error', (err) => done?.(err));
    connect.end();
    return undefined;
  }
}

const agents = new Map<string, Agents>();

export const proxyAgentsFor = (proxyUrl: string): Agents => {
  let pair = agents.get(proxyUrl);
  if (!pair) {
    const proxy = new URL(proxyUrl);
    agents.set(proxyUrl, (pair = { http: new HttpViaProxy(proxy), https: new HttpsViaProxy(proxy) }));
  }
  return pair;
};
