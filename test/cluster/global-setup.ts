import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { startRedisCluster, type RedisCluster } from '../../src/launcher/redis-cluster.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    clusterNodes: string;
  }
}

let cluster: RedisCluster | undefined;
let dir: string | undefined;

/**
 * `npm run test:cluster`: the cluster .ci/run started (TEST_CLUSTER_NODES=host:port,...), or a
 * private one of 3 masters on loopback. Tests isolate themselves by key prefix.
 */
export async function setup(project: TestProject) {
  let nodes = process.env.TEST_CLUSTER_NODES;
  if (!nodes) {
    dir = mkdtempSync(join(tmpdir(), 'task-hub-test-cluster-'));
    cluster = await startRedisCluster({ dir, masters: 3 });
    nodes = cluster.nodeList;
  }
  project.provide('clusterNodes', nodes);
}

export async function teardown() {
  await cluster?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
}
