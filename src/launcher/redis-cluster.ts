import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { startRedisServer, type RedisServer, type RedisServerOptions } from './redis-server.ts';

const run = promisify(execFile);

export interface RedisClusterOptions {
  /** Each node gets a folder here (nodes.conf, AOF). */
  dir: string;
  masters?: number;
  /** Replicas per master (each on its own redis-server). */
  replicas?: number;
  /** How long a master may be unreachable before its replica takes over (Redis: 15 s). */
  nodeTimeoutMs?: number;
  /** Passed to every node (appendonly, appendfsync, maxmemory...). */
  server?: Omit<RedisServerOptions, 'dir' | 'port' | 'extraArgs'>;
}

export interface RedisCluster {
  /** Every node, masters first as created (replicas follow; roles change on failover). */
  servers: RedisServer[];
  nodes: { host: string; port: number }[];
  /** `127.0.0.1:p1,127.0.0.1:p2,...`: what REDIS_CLUSTER_NODES takes. */
  nodeList: string;
  /** Starts a stopped or killed node again on its port and folder: it rejoins (as a replica if its slots moved meanwhile). */
  restart(port: number): Promise<RedisServer>;
  stop(): Promise<void>;
}

const info = async (port: number, section: string): Promise<string> => {
  const redis = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  redis.on('error', () => {});
  try {
    await redis.connect();
    return section === 'cluster' ? await redis.cluster('INFO') : await redis.info(section);
  } catch {
    return '';
  } finally {
    redis.disconnect();
  }
};

/** Polls `check` every 100 ms until true; throws `what` after `ms`. */
const until = async (check: () => Promise<boolean>, ms: number, what: string) => {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`redis cluster: ${what} within ${ms / 1_000} s`);
    await new Promise((r) => setTimeout(r, 100));
  }
};

/**
 * A local Redis Cluster for tests, the bench and fault scenarios: `masters * (1 + replicas)`
 * redis-servers on loopback, joined with `redis-cli --cluster create`, resolved once every
 * node says `cluster_state:ok` and every replica's link to its master is up.
 */
export const startRedisCluster = async (opts: RedisClusterOptions): Promise<RedisCluster> => {
  const { masters = 3, replicas = 0, nodeTimeoutMs = 5_000 } = opts;
  const servers: RedisServer[] = [];
  const stop = async () => {
    await Promise.all(servers.map((s) => s.stop()));
  };
  const start = (i: number, port?: number) =>
    startRedisServer({
      appendonly: false,
      ...opts.server,
      dir: join(opts.dir, `node-${i}`),
      ...(port ? { port } : {}),
      extraArgs: [
        ...['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf', '--cluster-node-timeout', String(nodeTimeoutMs)],
        // A replica's first sync starts at once, not after Redis's 5 s wait for more replicas.
        ...['--repl-diskless-sync-delay', '0'],
      ],
    });
  const restart = async (port: number) => {
    const i = servers.findIndex((s) => s.port === port);
    if (i === -1) throw new Error(`redis cluster: no node on port ${port}`);
    await servers[i]!.stop();
    servers[i] = await start(i, port);
    return servers[i]!;
  };
  try {
    for (let i = 0; i < masters * (1 + replicas); i++) servers.push(await start(i));
    const nodes = servers.map((s) => ({ host: '127.0.0.1', port: s.port }));
    await run('redis-cli', ['--cluster', 'create', ...nodes.map((n) => `${n.host}:${n.port}`), '--cluster-replicas', String(replicas), '--cluster-yes'], {
      timeout: 30_000,
    }).catch((err: Error & { stdout?: string }) => {
      throw new Error(`redis-cli --cluster create failed: ${err.message}\n${err.stdout ?? ''}`);
    });
    await until(async () => (await Promise.all(servers.map((s) => info(s.port, 'cluster')))).every((i) => i.includes('cluster_state:ok')), 30_000, 'not every node reached cluster_state:ok');
    if (replicas) {
      const linked = async () => {
        const repl = await Promise.all(servers.map((s) => info(s.port, 'replication')));
        const up = repl.filter((r) => r.includes('role:slave') && r.includes('master_link_status:up') && !r.includes('master_sync_in_progress:1'));
        return up.length === masters * replicas;
      };
      await until(linked, 30_000, 'replicas did not finish their first sync');
    }
    return { servers, nodes, nodeList: nodes.map((n) => `${n.host}:${n.port}`).join(','), restart, stop };
  } catch (err) {
    await stop();
    throw err;
  }
};
