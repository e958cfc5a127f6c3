import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import type { ConnectionOptions } from 'node:tls';
import { redactUrl } from './redact.ts';

export type RedisRole = 'worker' | 'producer';

/** A connection the hub passes around: one Redis, or a Redis Cluster (every role runs on either). */
export type RedisClient = Redis | Cluster;

export interface ClusterNodeAddress {
  host: string;
  port: number;
}

/** A Redis Cluster: a few of its nodes (the client discovers the rest) and what every node wants from a client. */
export interface ClusterTarget {
  nodes: readonly (ClusterNodeAddress | string)[];
  username?: string;
  password?: string;
  /** TLS to every node (`true`: the defaults; or node:tls options such as `ca`). */
  tls?: boolean | ConnectionOptions;
}

/** Where the hub's Redis is: a URL (`redis://`, `rediss://`), or a cluster. */
export type RedisTarget = string | ClusterTarget;

/**
 * Workers block and must ride out Redis restarts (BullMQ requires maxRetriesPerRequest: null).
 * Producers sit in request handlers: fail fast instead of queueing commands while offline.
 */
const optionsFor = (role: RedisRole): RedisOptions =>
  role === 'worker'
    ? { maxRetriesPerRequest: null, enableReadyCheck: true }
    : { maxRetriesPerRequest: 1, enableOfflineQueue: false, connectTimeout: 3_000 };

export interface CreateRedisOptions extends RedisOptions {
  /** Connection errors arrive as events; ioredis prints unhandled ones (with the URL) otherwise. */
  onError?: (message: string) => void;
  /** Cluster-level options (slot refresh, failover retry delays) when the target is a cluster. */
  cluster?: ClusterOptions;
}

export const isCluster = (client: RedisClient): client is Cluster => (client as Cluster).isCluster === true;

const addressOf = (node: ClusterNodeAddress | string): ClusterNodeAddress => {
  if (typeof node !== 'string') return node;
  const at = node.lastIndexOf(':');
  return { host: node.slice(0, at).replace(/^\[|\]$/g, ''), port: Number(node.slice(at + 1)) };
};

/** For logs: the URL without its password, or the cluster's seed nodes. */
export const describeTarget = (target: RedisTarget): string =>
  typeof target === 'string'
    ? redactUrl(target)
    : `cluster ${target.nodes.map((n) => (typeof n === 'string' ? n : `${n.host}:${n.port}`)).join(',')}`;

const createCluster = (target: ClusterTarget, role: RedisRole, extra: RedisOptions, clusterOptions: ClusterOptions = {}): Cluster => {
  const { enableOfflineQueue, ...perNode } = { ...optionsFor(role), ...extra };
  const tls = target.tls === true ? {} : target.tls || undefined;
  return new Cluster(target.nodes.map(addressOf), {
    // Before the slot table is known a producer's command has nowhere to go: fail it, as on one Redis.
    enableOfflineQueue: enableOfflineQueue ?? true,
    enableReadyCheck: true,
    // A failover takes the cluster node timeout plus an election: keep asking for the new map.
    retryDelayOnFailover: 200,
    retryDelayOnClusterDown: 300,
    ...clusterOptions,
    redisOptions: {
      ...perNode,
      ...(target.username ? { username: target.username } : {}),
      ...(target.password ? { password: target.password } : {}),
      ...(tls ? { tls } : {}),
    },
  });
};

/** The hub's one way to open Redis: a URL gives a Redis, a cluster target a Cluster, with the role's options either way. */
export function createRedis(target: string, role: RedisRole, options?: CreateRedisOptions): Redis;
export function createRedis(target: RedisTarget, role: RedisRole, options?: CreateRedisOptions): RedisClient;
export function createRedis(target: RedisTarget, role: RedisRole, { onError, cluster, ...extra }: CreateRedisOptions = {}): RedisClient {
  const redis = typeof target === 'string' ? new Redis(target, { ...optionsFor(role), ...extra }) : createCluster(target, role, extra, cluster);
  const where = describeTarget(target);
  let last = '';
  const report = (err: Error, node?: string) => {
    // One line per distinct error, not one per reconnect attempt.
    const message = `redis ${node ? `node ${node}` : where}: ${err.message}`;
    if (message === last) return;
    last = message;
    onError?.(message);
  };
  redis.on('error', (err: Error) => report(err));
  // A cluster reports each node's connection errors apart from its own.
  if (isCluster(redis)) redis.on('node error', (err: Error, node: string) => report(err, node));
  redis.on('ready', () => (last = ''));
  return redis;
}

/**
 * A connection for blocking reads (QueueEvents, Worker) from one the caller shares: same
 * target and credentials, the worker role's retry options.
 */
export const duplicateBlocking = (client: RedisClient, connectionName?: string): RedisClient =>
  isCluster(client)
    ? client.duplicate(undefined, { enableOfflineQueue: true, redisOptions: { ...client.options.redisOptions, maxRetriesPerRequest: null, ...(connectionName ? { connectionName } : {}) } })
    : client.duplicate({ maxRetriesPerRequest: null, enableOfflineQueue: true, ...(connectionName ? { connectionName } : {}) });

/** Resolves once the client is ready (a cluster: its slot table is known); rejects after `timeoutMs`. */
export const whenReady = (client: RedisClient, timeoutMs = Infinity): Promise<void> => {
  if (client.status === 'ready') return Promise.resolve();
  return new Promise<void>((resolve, reject) => {
    const timer = Number.isFinite(timeoutMs) ? setTimeout(() => (client.off('ready', onReady), reject(new Error(`not ready within ${timeoutMs} ms`))), timeoutMs) : undefined;
    const onReady = () => (clearTimeout(timer), resolve());
    client.once('ready', onReady);
  });
};

/**
 * The servers holding data: the one Redis, or each master of a cluster (as known now: call
 * after `whenReady`). Server-wide commands (CONFIG, INFO, SCAN, CLIENT LIST) go to each.
 */
export const mastersOf = (client: RedisClient): Redis[] => (isCluster(client) ? client.nodes('master') : [client]);

/** `host:port` of a server, for messages. */
export const nodeName = (redis: Redis): string => `${redis.options.host ?? '127.0.0.1'}:${redis.options.port ?? 6379}`;
