import type { Request, Response } from 'express';
import type { RedisClient } from '../../core/redis.ts';
import { catalog, type AnyContract } from '../../contracts/index.ts';
import type { FlowConfig } from '../../core/flow/limits.ts';
import { readFlowStatus } from '../../core/flow/status.ts';

export interface LimitsDeps {
  redis: RedisClient;
  prefix: string;
  config: FlowConfig;
}

/**
 * GET /api/v1/limits: each limited service (its limit, how long a call asking now would wait,
 * a hold-off in force, calls in flight), each keyed task (jobs waiting for their key, the
 * busiest keys) and each pool (items free, cooling, leased), as Redis holds them now.
 */
export const limitsRoute = ({ redis, prefix, config }: LimitsDeps) => async (_req: Request, res: Response) => {
  res.json(await readFlowStatus(redis, prefix, config, catalog as Record<string, AnyContract>));
};
