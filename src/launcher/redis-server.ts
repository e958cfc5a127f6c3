import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { Redis } from 'ioredis';

export interface RedisServerOptions {
  dir: string;
  port?: number;
  /** Durable by default, as the hub requires: AOF on, noeviction. */
  appendonly?: boolean;
  appendfsync?: 'always' | 'everysec' | 'no';
  maxmemory?: string;
  maxmemoryPolicy?: string;
  extraArgs?: string[];
  /** Own process group: a Ctrl-C meant for the parent does not reach Redis, which the parent stops last. */
  detached?: boolean;
}

export interface RedisServer {
  url: string;
  port: number;
  process: ChildProcess;
  /** SIGTERM, then wait for exit. */
  stop(): Promise<void>;
  /** SIGKILL: a crash, for fault tests. */
  kill(): Promise<void>;
}

export const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });

const exited = (child: ChildProcess) =>
  child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise<void>((r) => child.once('exit', () => r()));

/** Starts `redis-server` on loopback and resolves once it answers PING. */
export const startRedisServer = async (opts: RedisServerOptions): Promise<RedisServer> => {
  const port = opts.port ?? (await freePort());
  mkdirSync(opts.dir, { recursive: true });
  const args = [
    '--port', String(port),
    '--bind', '127.0.0.1',
    '--dir', opts.dir,
    '--save', '',
    '--appendonly', opts.appendonly === false ? 'no' : 'yes',
    '--appendfsync', opts.appendfsync ?? 'everysec',
    '--maxmemory-policy', opts.maxmemoryPolicy ?? 'noeviction',
    ...(opts.maxmemory ? ['--maxmemory', opts.maxmemory] : []),
    ...(opts.extraArgs ?? []),
  ];
  const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'], detached: opts.detached ?? false });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-4_000)));
  child.stderr!.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-4_000)));
  const spawnError = new Promise<never>((_, reject) => child.once('error', reject));
  const url = `redis://127.0.0.1:${port}`;
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`redis-server exited with ${child.exitCode}:\n${output}`);
    const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    probe.on('error', () => {});
    const ok = await Promise.race([probe.connect().then(() => probe.ping()), spawnError]).then(() => true, (e) => {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new Error('redis-server is not installed (apt-get install redis-server)');
      return false;
    });
    probe.disconnect();
    if (ok) break;
    if (Date.now() > deadline) throw new Error(`redis-server did not answer on ${port} within 10 s:\n${output}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    url,
    port,
    process: child,
    async stop() {
      child.kill('SIGTERM');
      await exited(child);
    },
    async kill() {
      child.kill('SIGKILL');
      await exited(child);
    },
  };
};
