import type { RedisClient } from '../core/redis.ts';
import type { Env } from '../config/env.ts';
import { flowConfigFrom } from '../config/flow-config.ts';
import { ConfigError } from '../core/errors.ts';
import type { FlowConfig } from '../core/flow/limits.ts';
import { createFlowRuntime, type FlowRuntime } from '../core/flow/runtime.ts';
import type { Logger } from '../core/logger.ts';
import { keyedContractProblems } from './keyed-checks.ts';
import type { Registry } from './registry.ts';

/** Limits, pools and keyed contracts, checked before anything connects: every problem, each naming its entry. */
export const checkFlow = (env: Env, registry: Registry): FlowConfig => {
  let config: FlowConfig | undefined;
  const problems: string[] = [];
  try {
    config = flowConfigFrom(env);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    problems.push(...err.message.split('\n').slice(1).map((l) => l.trim()));
  }
  problems.push(...keyedContractProblems([...registry.values()].map((h) => h.contract)));
  if (problems.length) throw new ConfigError(`flow control: ${problems.length} problem${problems.length > 1 ? 's' : ''}:\n${problems.map((p) => `  ${p}`).join('\n')}`);
  return config!;
};

/** The worker's flow runtime on its connection, with the pools' items written to Redis. */
export const startFlow = async (config: FlowConfig, env: Env, redis: RedisClient, log: Logger): Promise<FlowRuntime> => {
  const flow = createFlowRuntime({ config, redis, hubPrefix: env.HUB_PREFIX, httpTimeoutMs: env.HTTP_TIMEOUT_MS, log });
  await flow.start();
  const limited = Object.values(config.services).map((s) => ({
    service: s.service,
    ...(s.rateLimit ? { rate: `${s.rateLimit.max}/${s.rateLimit.perMs}ms` } : {}),
    ...(s.maxInFlight !== undefined ? { maxInFlight: s.maxInFlight } : {}),
    ...(s.pool ? { pool: s.pool } : {}),
  }));
  if (limited.length || Object.keys(config.pools).length) {
    log.info({ limited, pools: Object.values(config.pools).map((p) => ({ pool: p.pool, items: p.items.length, cooldownMs: p.cooldownMs })) }, 'flow control');
  }
  return flow;
};
