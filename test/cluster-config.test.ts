import { describe, expect, it } from 'vitest';
import { ConfigError } from '../src/core/errors.ts';
import { clusterRedis } from '../src/launcher/local-redis.ts';
import { freePort } from '../src/launcher/redis-server.ts';
import { createProducer } from '../src/producer/index.ts';

describe('pointing at a Redis Cluster: bad settings are named before anything connects', () => {
  it('createProducer names an empty or malformed cluster.nodes, and refuses redisUrl and cluster together', () => {
    expect(() => createProducer({ service: 's', cluster: { nodes: [] } })).toThrow('createProducer: cluster.nodes is empty');
    expect(() => createProducer({ service: 's', cluster: { nodes: ['10.0.0.5:7000', 'redis-2'] } })).toThrow('cluster.nodes[1] is not "host:port" or { host, port }');
    expect(() => createProducer({ service: 's', cluster: { nodes: [{ host: 'redis-1', port: 0 }] } })).toThrow('cluster.nodes[0]');
    expect(() => createProducer({ service: 's', cluster: { nodes: ['10.0.0.5:7000'] }, redisUrl: 'redis://x' })).toThrow('pass redisUrl or cluster, not both');
  });

  it('npm start with a cluster nobody answers for says what to check, without the password', async () => {
    const port = await freePort();
    const attempt = clusterRedis({ nodes: [`127.0.0.1:${port}`], password: 'cluster-secret' }, () => {}, 1_000);
    await expect(attempt).rejects.toThrow(ConfigError);
    await expect(attempt).rejects.toThrow(`the Redis Cluster at REDIS_CLUSTER_NODES (127.0.0.1:${port}) did not become ready within 1 s`);
    await expect(attempt).rejects.toThrow(/redis-cli --cluster check/);
    await expect(attempt).rejects.not.toThrow(/cluster-secret/);
  });
});
