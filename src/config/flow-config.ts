import type { PoolSpec } from '../contracts/pools.ts';
import type { RateLimit, ServiceSpec } from '../contracts/services.ts';
import type { FlowConfig, PoolConfig, ServiceLimits } from '../core/flow/limits.ts';
import { didYouMean } from '../core/did-you-mean.ts';
import { ConfigError } from '../core/errors.ts';
import { pools as poolSpecs } from '../../pools.config.ts';
import { services as serviceSpecs } from '../../services.config.ts';
import { maxInFlightEnvOf, rateLimitEnvOf } from './flow-env.ts';

export type { FlowConfig, PoolConfig, ServiceLimits };

export const DEFAULT_MAX_WAIT_MS = 5_000;
export const DEFAULT_LEASE_TTL_MS = 30_000;

/** 5% of the window, between 10 ms and 2 s: 20/s becomes at most 20 per 1.05 s at the limiter. */
export const marginFor = (perMs: number): number => Math.min(2_000, Math.max(10, Math.round(perMs * 0.05)));

const wholeAtLeast = (value: unknown, min: number) => typeof value === 'number' && Number.isSafeInteger(value) && value >= min;

export interface FlowSources {
  services?: Readonly<Record<string, ServiceSpec>>;
  pools?: Readonly<Record<string, PoolSpec>>;
}

/**
 * The limits and pools in force, checked: every problem is listed, each naming its entry, and
 * the process does not start. `env` is the parsed environment (its limit variables already
 * read as { max, perMs }, numbers and item lists by src/config/flow-env.ts).
 */
export const flowConfigFrom = (env: Readonly<Record<string, unknown>>, sources: FlowSources = {}): FlowConfig => {
  const services = sources.services ?? (serviceSpecs as Readonly<Record<string, ServiceSpec>>);
  const pools = sources.pools ?? (poolSpecs as Readonly<Record<string, PoolSpec>>);
  const problems: string[] = [];

  const poolConfigs: Record<string, PoolConfig> = {};
  for (const [name, spec] of Object.entries(pools)) {
    const where = `pools.config.ts: ${name}`;
    if (!wholeAtLeast(spec.cooldownMs, 0)) problems.push(`${where}.cooldownMs must be a whole number of ms >= 0 (got ${spec.cooldownMs})`);
    const ttl = spec.leaseTtlMs ?? DEFAULT_LEASE_TTL_MS;
    if (!wholeAtLeast(ttl, 1_000)) problems.push(`${where}.leaseTtlMs must be a whole number of ms >= 1000 (got ${ttl})`);
    const items = (env[spec.itemsEnv] as readonly string[] | undefined) ?? spec.defaultItems;
    if (spec.defaultItems && !spec.defaultItems.length && env[spec.itemsEnv] === undefined) {
      problems.push(`${where}: the pool is empty (defaultItems lists nothing): set ${spec.itemsEnv} or give defaultItems`);
    }
    if (items?.length) poolConfigs[name] = { pool: name, items, cooldownMs: spec.cooldownMs, leaseTtlMs: ttl };
  }

  const limits: Record<string, ServiceLimits> = {};
  for (const [name, spec] of Object.entries(services)) {
    const where = `services.config.ts: ${name}`;
    const rateEnv = rateLimitEnvOf(name as never);
    const rate = (env[rateEnv] as RateLimit | undefined) ?? spec.rateLimit;
    const fromEnv = env[rateEnv] !== undefined;
    if (rate && !(wholeAtLeast(rate.max, 1) && wholeAtLeast(rate.perMs, 1))) {
      problems.push(`${fromEnv ? rateEnv : `${where}.rateLimit`}: max and perMs must be whole numbers >= 1 (got ${rate.max}/${rate.perMs}); a limit of 0 would stop every call`);
    }
    const inFlightEnv = maxInFlightEnvOf(name as never);
    const maxInFlight = (env[inFlightEnv] as number | undefined) ?? spec.maxInFlight;
    if (maxInFlight !== undefined && !wholeAtLeast(maxInFlight, 1)) problems.push(`${where}.maxInFlight must be a whole number >= 1 (got ${maxInFlight})`);
    const maxWaitMs = spec.maxWaitMs ?? DEFAULT_MAX_WAIT_MS;
    if (!wholeAtLeast(maxWaitMs, 0)) problems.push(`${where}.maxWaitMs must be a whole number of ms >= 0 (got ${maxWaitMs})`);
    if (spec.pool !== undefined) {
      const poolSpec = pools[spec.pool];
      if (!poolSpec) problems.push(`${where}.pool: no pool "${spec.pool}" in pools.config.ts${didYouMean(spec.pool, Object.keys(pools))}`);
      else if (!poolConfigs[spec.pool]) problems.push(`${where} routes through pool ${spec.pool}, which is empty: set ${poolSpec.itemsEnv}`);
      else {
        const notUrls = poolConfigs[spec.pool]!.items.filter((i) => !/^https?:\/\/[^/]+\/?$/.test(i));
        if (notUrls.length) problems.push(`${poolSpec.itemsEnv}: ${name} routes through pool ${spec.pool}, so each item must be a proxy URL http://host:port (${notUrls.length} not)`);
      }
    }
    if (!rate && maxInFlight === undefined && spec.pool === undefined) continue;
    limits[name] = {
      service: name,
      ...(rate ? { rateLimit: { max: rate.max, perMs: rate.perMs, marginMs: marginFor(rate.perMs) } } : {}),
      ...(maxInFlight !== undefined ? { maxInFlight } : {}),
      maxWaitMs,
      ...(spec.pool !== undefined ? { pool: spec.pool } : {}),
    };
  }
  if (problems.length) throw new ConfigError(`flow control: ${problems.length} problem${problems.length > 1 ? 's' : ''}:\n${problems.map((p) => `  ${p}`).join('\n')}`);
  return { services: limits, pools: poolConfigs };
};
