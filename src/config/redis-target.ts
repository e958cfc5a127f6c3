import { ConfigError } from '../core/errors.ts';
import type { RedisTarget } from '../core/redis.ts';
import type { Env } from './env.ts';

/**
 * The Redis every role connects to: REDIS_URL, or the cluster REDIS_CLUSTER_NODES lists. With a
 * cluster, REDIS_URL supplies only what every node wants from a client: `rediss://` for TLS, and
 * the user and password (`rediss://user:password@cluster`); its host and port are not used.
 */
export const redisTargetOf = (env: Pick<Env, 'REDIS_URL' | 'REDIS_CLUSTER_NODES'>): RedisTarget => {
  const nodes = env.REDIS_CLUSTER_NODES;
  if (!nodes?.length) return env.REDIS_URL;
  const url = new URL(env.REDIS_URL);
  const db = url.pathname.replace(/^\//, '');
  if (db && db !== '0') {
    throw new ConfigError(`REDIS_URL selects database ${db}, but a Redis Cluster (REDIS_CLUSTER_NODES) has database 0 only: drop "/${db}" from REDIS_URL`);
  }
  return {
    nodes,
    ...(url.username ? { username: decodeURIComponent(url.username) } : {}),
    ...(url.password ? { password: decodeURIComponent(url.password) } : {}),
    ...(url.protocol === 'rediss:' ? { tls: true } : {}),
  };
};

/** The inverse, for a child process that reads its environment: REDIS_URL and REDIS_CLUSTER_NODES for a target. */
export const envOfTarget = (target: RedisTarget): { REDIS_URL: string; REDIS_CLUSTER_NODES: string } => {
  if (typeof target === 'string') return { REDIS_URL: target, REDIS_CLUSTER_NODES: '' };
  const url = new URL(`${target.tls ? 'rediss' : 'redis'}://cluster`);
  if (target.username) url.username = encodeURIComponent(target.username);
  if (target.password) url.password = encodeURIComponent(target.password);
  const nodes = target.nodes.map((n) => (typeof n === 'string' ? n : `${n.host.includes(':') ? `[${n.host}]` : n.host}:${n.port}`));
  return { REDIS_URL: url.toString(), REDIS_CLUSTER_NODES: nodes.join(',') };
};
