import { describe, expect, it } from 'vitest';
import { ConfigError } from '../core/errors.ts';
import { loadEnv } from './env.ts';
import { envOfTarget, redisTargetOf } from './redis-target.ts';

describe('REDIS_CLUSTER_NODES', () => {
  it('unset: every role uses REDIS_URL', () => {
    expect(redisTargetOf(loadEnv({ REDIS_URL: 'redis://:pw@redis:6379' }))).toBe('redis://:pw@redis:6379');
  });

  it('set: the cluster, with user, password and TLS from REDIS_URL', () => {
    const env = loadEnv({ REDIS_CLUSTER_NODES: ' 10.0.0.5:7000, redis-2:7001,[::1]:7002 ', REDIS_URL: 'rediss://hub:p%40ss@cluster' });
    expect(redisTargetOf(env)).toEqual({
      nodes: [
        { host: '10.0.0.5', port: 7000 },
        { host: 'redis-2', port: 7001 },
        { host: '::1', port: 7002 },
      ],
      username: 'hub',
      password: 'p@ss',
      tls: true,
    });
  });

  it('names each entry that is not host:port, and says how to write the list', () => {
    const attempt = () => loadEnv({ REDIS_CLUSTER_NODES: '10.0.0.5:7000,10.0.0.6,redis:99999' });
    expect(attempt).toThrow(ConfigError);
    expect(attempt).toThrow(/REDIS_CLUSTER_NODES/);
    expect(attempt).toThrow(/"10\.0\.0\.6" is not host:port/);
    expect(attempt).toThrow(/"redis:99999" is not host:port/);
    expect(attempt).toThrow(/e\.g\. 10\.0\.0\.5:7000,10\.0\.0\.6:7000/);
  });

  it('refuses a database other than 0, which a cluster does not have', () => {
    const env = loadEnv({ REDIS_CLUSTER_NODES: '10.0.0.5:7000', REDIS_URL: 'redis://:secret-pw@cluster/3' });
    expect(() => redisTargetOf(env)).toThrow(/REDIS_URL selects database 3, but a Redis Cluster \(REDIS_CLUSTER_NODES\) has database 0 only/);
    expect(() => redisTargetOf(env)).not.toThrow(/secret-pw/);
  });

  it('a child process gets the same target back from its environment', () => {
    const target = redisTargetOf(loadEnv({ REDIS_CLUSTER_NODES: '10.0.0.5:7000,[::1]:7002', REDIS_URL: 'rediss://hub:p%40ss@cluster' }));
    expect(redisTargetOf(loadEnv(envOfTarget(target)))).toEqual(target);
    expect(envOfTarget('redis://127.0.0.1:6379')).toEqual({ REDIS_URL: 'redis://127.0.0.1:6379', REDIS_CLUSTER_NODES: '' });
  });
});
