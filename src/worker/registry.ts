import { catalog, type AnyContract } from '../contracts/index.ts';
import { ConfigError } from '../core/errors.ts';
import { queueSpecOf } from '../core/job-options.ts';
import type { TaskHandler } from '../../tasks/context.ts';

export type Registry = ReadonlyMap<string, TaskHandler>;

/**
 * Handlers by task name, checked against the contract catalog at start: a task without a
 * handler, a handler twice, or a queue that queues.config.ts does not declare stops the worker.
 */
export const buildRegistry = (
  handlers: readonly TaskHandler[],
  contracts: Readonly<Record<string, AnyContract>> = catalog,
): Registry => {
  const registry = new Map<string, TaskHandler>();
  for (const h of handlers) {
    if (registry.has(h.contract.name)) throw new ConfigError(`two handlers for ${h.contract.name}`);
    if (contracts[h.contract.name] !== h.contract) throw new ConfigError(`handler for ${h.contract.name} has no contract in src/contracts`);
    queueSpecOf(h.contract.queue);
    registry.set(h.contract.name, h);
  }
  const missing = Object.keys(contracts).filter((name) => !registry.has(name));
  if (missing.length) throw new ConfigError(`no handler for ${missing.join(', ')}: add one in tasks/<domain>.ts`);
  return registry;
};
