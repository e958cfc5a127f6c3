import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach, inject } from 'vitest';
import { deletePrefix, queuePrefix } from '../../src/core/keys.ts';

export { deletePrefix };
import type { FlowConfig } from '../../src/core/flow/limits.ts';
import { createFlowRuntime, type FlowRuntime } from '../../src/core/flow/runtime.ts';
import { createLogger } from '../../src/core/logger.ts';
import { createServiceClients } from '../../src/service-clients/services.ts';
import { createProducer, type JobRef, type Producer } from '../../src/producer/index.ts';
import type { JobOutcome } from '../../src/worker/dispatch.ts';
import { buildRegistry, type Registry } from '../../src/worker/registry.ts';
import { startWorkers, type WorkerHub } from '../../src/worker/start-workers.ts';
import { handlers } from '../../tasks/index.ts';
import { queues } from '../../queues.config.ts';
import { serviceNames, services as serviceSpecs, type ServiceName } from '../../services.config.ts';
import { StubService } from './stub-service.ts';

export const testRedisUrl = (): string => inject('redisUrl');
/** Each service's URL: the stub standing in for it. */
export const stubUrls = (stubs: Record<ServiceName, StubService>) =>
  Object.fromEntries(serviceNames.map((name) => [name, stubs[name].url])) as Record<ServiceName, string>;

/** The same as environment variables, for a hub process (`ORDER_SERVICE_URL=...`). */
export const stubEnv = (stubs: Record<ServiceName, StubService>): Record<string, string> =>
  Object.fromEntries(serviceNames.map((name) => [serviceSpecs[name].urlEnv, stubs[name].url]));

export const newPrefix = (): string => `t${randomBytes(5).toString('hex')}`;

export interface TestHubOptions {
  /** Start the in-process worker (default true). */
  worker?: boolean;
  /** Service limits and pools for the worker's clients and ctx.lease (default: none, as without flow config). */
  flow?: FlowConfig;
}

/**
 * A hub per test: a fresh key prefix, the real worker with the real task handlers in process,
 * the real producer, and one stub HTTP service per domain. Keys are removed after each test.
 */
export const useTestHub = ({ worker = true, flow }: TestHubOptions = {}) => {
  const services = {} as Record<ServiceName, StubService>;
  const state = {
    prefix: '',
    producer: undefined as unknown as Producer,
    workers: undefined as WorkerHub | undefined,
    redis: undefined as unknown as Redis,
    logs: [] as string[],
    outcomes: [] as JobOutcome[],
    queues: [] as Queue[],
    connections: [] as Redis[],
    flow: undefined as FlowRuntime | undefined,
    flowRedis: undefined as Redis | undefined,
  };

  beforeAll(async () => {
    for (const name of serviceNames) services[name] = await StubService.start();
    state.redis = new Redis(testRedisUrl());
  });
  afterAll(async () => {
    await Promise.all(Object.values(services).map((s) => s.close()));
    state.redis.disconnect();
  });

  const startWorker = async (registry: Registry = buildRegistry(handlers)) => {
    const sink = new Writable({ write: (chunk, _enc, done) => (state.logs.push(chunk.toString()), done()) });
    const log = createLogger({ name: 'worker', level: 'debug', destination: sink });
    if (flow && !state.flow) {
      state.flowRedis = new Redis(testRedisUrl(), { maxRetriesPerRequest: null });
      state.flow = createFlowRuntime({ config: flow, redis: state.flowRedis, hubPrefix: state.prefix, httpTimeoutMs: 5_000, log });
      await state.flow.start();
    }
    state.workers = await startWorkers({
      redisUrl: testRedisUrl(),
      prefix: state.prefix,
      queues: Object.keys(queues),
      registry,
      http: createServiceClients(stubUrls(services), 5_000, state.flow),
      log,
      onOutcome: (o) => state.outcomes.push(o),
      flow: state.flow,
    });
    return state.workers;
  };

  beforeEach(async () => {
    state.prefix = newPrefix();
    state.logs.length = 0;
    state.outcomes.length = 0;
    for (const s of Object.values(services)) s.reset();
    state.producer = createProducer({ redisUrl: testRedisUrl(), prefix: state.prefix, service: 'test' });
    if (worker) await startWorker();
  });
  afterEach(async () => {
    await state.workers?.close(1_000);
    state.workers = undefined;
    await state.flow?.stop();
    state.flow = undefined;
    state.flowRedis?.disconnect();
    await state.producer.close();
    await Promise.all(state.queues.splice(0).map((q) => q.close()));
    for (const c of state.connections.splice(0)) c.disconnect();
    await deletePrefix(state.redis, state.prefix);
  });

  return {
    services,
    get prefix() {
      return state.prefix;
    },
    get producer() {
      return state.producer;
    },
    get redis() {
      return state.redis;
    },
    get logs() {
      return state.logs;
    },
    get outcomes() {
      return state.outcomes;
    },
    /** The worker's flow runtime (with the `flow` option). */
    get flow() {
      return state.flow;
    },
    /** Restarts the in-process worker, e.g. with a registry of test-only tasks. */
    async startWorker(registry?: Registry) {
      await state.workers?.close(1_000);
      return startWorker(registry);
    },
    async stopWorker(graceMs = 1_000) {
      await state.workers?.close(graceMs);
      state.workers = undefined;
    },
    finished: (job: JobRef, timeoutMs = 20_000) => state.producer.waitFor(job, { timeoutMs }),
    async attemptsMade(job: JobRef) {
      return (await state.producer.getJob(job))?.attemptsMade;
    },
    /** A plain BullMQ Queue on the hub's keys: what a Python/Go client or Bull Board would use. */
    rawQueue(name: string): Queue {
      const connection = new Redis(testRedisUrl(), { maxRetriesPerRequest: null });
      state.connections.push(connection);
      const q = new Queue(name, { connection, prefix: queuePrefix(state.prefix, name) });
      state.queues.push(q);
      return q;
    },
    async keys(): Promise<string[]> {
      const found: string[] = [];
      let cursor = '0';
      do {
        const [next, keys] = await state.redis.scan(cursor, 'MATCH', `{${state.prefix}-*`, 'COUNT', 1_000);
        cursor = next;
        found.push(...keys);
      } while (cursor !== '0');
      return found;
    },
  };
};
