import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { ConfigError } from '../core/errors.ts';
import { redactUrl } from '../core/redact.ts';
import { createRedis, describeTarget, whenReady, type ClusterTarget } from '../core/redis.ts';
import { installRedisServer } from './install-redis-server.ts';
import { startRedisServer } from './redis-server.ts';

export type Probe = 'ready' | 'needs-password' | 'absent' | 'not-redis';

/** What answers at `url`, within a bounded time. */
export const probeRedis = async (url: string, timeoutMs = 1_500): Promise<Probe> => {
  const redis = new Redis(url, {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    enableOfflineQueue: false,
  });
  redis.on('error', () => {});
  try {
    await redis.connect();
    return (await redis.ping()) === 'PONG' ? 'ready' : 'not-redis';
  } catch (err) {
    const message = `${(err as Error).message} ${(err as NodeJS.ErrnoException).code ?? ''}`;
    if (/NOAUTH|WRONGPASS|invalid password|invalid username-password/i.test(message)) return 'needs-password';
    if (/Protocol error/i.test(message)) return 'not-redis';
    if (/ECONNREFUSED|ETIMEDOUT|ENOTFOUND|EAI_AGAIN|EHOSTUNREACH|ENETUNREACH|connect|Connection is closed/i.test(message)) return 'absent';
    return 'not-redis';
  } finally {
    redis.disconnect();
  }
};

const hasRedisServer = () => spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0;

export interface LocalRedis {
  url: string;
  /** The private redis-server started for this session, if one was. */
  dataDir?: string;
  stop(): Promise<void>;
}

export interface LocalRedisOptions {
  url: string;
  /** REDIS_URL was set: use exactly that Redis, never start one. */
  explicit: boolean;
  dataDir: string;
  say: (line: string) => void;
}

const howToGetOne = (url: string) =>
  [
    `no Redis answers at ${url}, and redis-server is not installed. Either:`,
    '  - install it, and npm start runs a private one for you:  sudo apt-get update && sudo apt-get install -y --no-install-recommends redis-server  (macOS: brew install redis)',
    '    (npm start installs it itself when it runs as root or with passwordless sudo)',
    '  - or run the hub\'s Redis in Docker:  docker compose up -d redis',
    '    (cp .env.example .env and set REDIS_PASSWORD first; then  REDIS_URL=redis://:<REDIS_PASSWORD>@127.0.0.1:6379 npm start)',
  ].join('\n');

/**
 * The Redis `npm start` uses: whatever answers at the URL; else, only when the URL is the
 * default, a private redis-server on its port, durable as the hub requires (AOF, noeviction).
 */
export const localRedis = async ({ url, explicit, dataDir, say }: LocalRedisOptions): Promise<LocalRedis> => {
  const shown = redactUrl(url);
  const probe = await probeRedis(url);
  if (probe === 'ready') {
    say(`using the Redis at ${shown}`);
    return { url, stop: async () => {} };
  }
  if (probe === 'needs-password') throw new ConfigError(`the Redis at ${shown} wants a password: REDIS_URL=redis://:<password>@host:port npm start`);
  if (probe === 'not-redis') throw new ConfigError(`something that is not Redis answers at ${shown}: free that port, or set REDIS_URL`);
  if (explicit) throw new ConfigError(`no Redis answers at REDIS_URL=${shown}: start it, or unset REDIS_URL to let npm start run one`);
  if (!hasRedisServer()) {
    // Where systemd runs, Debian's package also starts its own redis-server on 6379: look again.
    if ((await installRedisServer(say)) && hasRedisServer()) return localRedis({ url, explicit, dataDir, say });
    throw new ConfigError(howToGetOne(shown));
  }

  const { hostname, port } = new URL(url);
  if (!['127.0.0.1', 'localhost', '[::1]'].includes(hostname)) throw new ConfigError(howToGetOne(shown));
  const server = await startRedisServer({
    dir: dataDir,
    port: Number(port || 6379),
    appendonly: true,
    appendfsync: 'everysec',
    maxmemoryPolicy: 'noeviction',
    detached: true,
    extraArgs: ['--logfile', join(dataDir, 'redis.log')],
  }).catch((err: Error) => {
    throw new ConfigError(`could not start redis-server on ${shown}: ${err.message}\n(see ${join(dataDir, 'redis.log')})`);
  });
  // Even if this process exits without stopping cleanly (a second Ctrl-C, a crash), Redis goes too.
  const killOnExit = () => server.process.kill('SIGTERM');
  process.once('exit', killOnExit);
  say(`no Redis at ${shown}: started a private redis-server there for this session (data in ${dataDir}, AOF on, noeviction); it stops with npm start`);
  return {
    url,
    dataDir,
    async stop() {
      process.off('exit', killOnExit);
      await server.stop();
    },
  };
};

/** With REDIS_CLUSTER_NODES `npm start` never starts a Redis: the cluster must answer, or it says what to check. */
export const clusterRedis = async (target: ClusterTarget, say: (line: string) => void, timeoutMs = 10_000): Promise<LocalRedis> => {
  const shown = describeTarget(target);
  let lastError = '';
  const probe = createRedis(target, 'producer', { onError: (m) => (lastError = m), cluster: { clusterRetryStrategy: () => 500 } });
  try {
    await whenReady(probe, timeoutMs);
  } catch {
    throw new ConfigError(
      `the Redis Cluster at REDIS_CLUSTER_NODES (${shown.replace(/^cluster /, '')}) did not become ready within ${timeoutMs / 1_000} s` +
        `${lastError ? ` (${lastError})` : ''}: check that the nodes are up and the cluster is formed (redis-cli --cluster check <host:port>), and REDIS_URL's password`,
    );
  } finally {
    probe.disconnect();
  }
  say(`using the Redis Cluster at ${shown.replace(/^cluster /, '')}`);
  return { url: shown, stop: async () => {} };
};
