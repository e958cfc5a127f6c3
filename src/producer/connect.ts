import { createRedis, duplicateBlocking, type RedisClient, type RedisTarget } from '../core/redis.ts';
import type { ProducerOptions } from './types.ts';

const HOST_PORT = /^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9._-]+):\d{1,5}$/;

/** Where the producer's Redis is, from its options: a URL, a cluster, or neither (a connection was passed). */
const targetOf = (options: ProducerOptions): RedisTarget | undefined => {
  const { cluster, redisUrl } = options;
  if (cluster) {
    if (!Array.isArray(cluster.nodes) || !cluster.nodes.length) throw new Error('createProducer: cluster.nodes is empty; list one or more nodes as "host:port" or { host, port }');
    cluster.nodes.forEach((n, i) => {
      const ok = typeof n === 'string' ? HOST_PORT.test(n) : typeof n?.host === 'string' && Number.isInteger(n.port) && n.port > 0 && n.port < 65_536;
      if (!ok) throw new Error(`createProducer: cluster.nodes[${i}] is not "host:port" or { host, port }`);
    });
    if (redisUrl) throw new Error('createProducer: pass redisUrl or cluster, not both');
  }
  return cluster ?? redisUrl;
};

export interface ProducerConnection {
  connection: RedisClient;
  /** Opened here, so closed with the producer. */
  owned: boolean;
  /** A connection for the result waiter's blocking reads. */
  blocking: () => RedisClient;
}

/** The producer's connection: its own (redisUrl or cluster, fail-fast options) or the caller's. */
export const producerConnection = (options: ProducerOptions): ProducerConnection => {
  const target = targetOf(options);
  if (options.connection) return { connection: options.connection, owned: false, blocking: () => duplicateBlocking(options.connection!) };
  if (!target) throw new Error('createProducer: pass redisUrl, cluster or connection');
  return { connection: createRedis(target, 'producer'), owned: true, blocking: () => createRedis(target, 'worker') };
};
