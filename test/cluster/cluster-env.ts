import { Redis } from 'ioredis';
import { inject } from 'vitest';
import { queuePrefix } from '../../src/core/keys.ts';
import type { ClusterTarget } from '../../src/core/redis.ts';
import { newPrefix } from '../helpers/test-hub.ts';
import { keySlot } from './slot-audit.ts';

/** The suite's cluster, as REDIS_CLUSTER_NODES takes it. */
export const clusterNodes = (): string => inject('clusterNodes');

export const clusterTarget = (): ClusterTarget => ({ nodes: clusterNodes().split(',') });

/** A plain connection to one node (not through the cluster client): what a node itself holds and answers. */
export const nodeClient = (address: string): Redis => {
  const [host, port] = [address.slice(0, address.lastIndexOf(':')), Number(address.slice(address.lastIndexOf(':') + 1))];
  const redis = new Redis({ host, port, maxRetriesPerRequest: 1 });
  redis.on('error', () => {});
  return redis;
};

/** The masters now, as `host:port`, from any node's CLUSTER NODES. */
export const masterAddresses = async (): Promise<string[]> => {
  const any = nodeClient(clusterNodes().split(',')[0]!);
  try {
    const lines = ((await any.cluster('NODES')) as string).trim().split('\n');
    return lines.filter((l) => / master /.test(` ${l.split(' ')[2]!.replace(/,/g, ' ')} `) && !l.includes('fail')).map((l) => l.split(' ')[1]!.split('@')[0]!);
  } finally {
    any.disconnect();
  }
};

/** The master serving a key's slot, as `host:port`. */
export const ownerOf = async (key: string): Promise<string> => {
  const any = nodeClient(clusterNodes().split(',')[0]!);
  try {
    const slot = (await any.cluster('KEYSLOT', key)) as number;
    const range = (await any.cluster('SLOTS')).find(([from, to]) => slot >= from && slot <= to)!;
    const [host, port] = range[2]!;
    return `${host}:${port}`;
  } finally {
    any.disconnect();
  }
};

/**
 * A fresh test prefix whose queues' slots fall on more than one master. A random prefix puts all five
 * domain queues on one of three masters about once in 40 draws (2.5 % of 100,000 drawn), and a test of the spread must not pass
 * or fail by the draw; the test then checks where the keys really are.
 */
export const spreadPrefix = async (queueNames: readonly string[]): Promise<string> => {
  const any = nodeClient(clusterNodes().split(',')[0]!);
  try {
    const ranges = await any.cluster('SLOTS');
    const owner = (slot: number) => ranges.findIndex(([from, to]) => slot >= from && slot <= to);
    for (;;) {
      const prefix = newPrefix();
      if (new Set(queueNames.map((q) => owner(keySlot(queuePrefix(prefix, q))))).size > 1) return prefix;
    }
  } finally {
    any.disconnect();
  }
};
