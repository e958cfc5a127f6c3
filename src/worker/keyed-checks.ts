import { z } from 'zod';
import type { AnyContract } from '../contracts/index.ts';
import { exampleOf } from '../core/schema-example.ts';
import { keyOf } from './keyed.ts';

/**
 * Keyed contracts, checked at start: perKey a whole number >= 1 (0 would never run a job), a
 * concurrencyKey function, and one that gives a string for the task's example payload (a key
 * that is a number or undefined would otherwise fail every job of the task, one at a time).
 */
export const keyedContractProblems = (contracts: Iterable<AnyContract>): string[] => {
  const problems: string[] = [];
  for (const c of contracts) {
    if (c.concurrencyKey === undefined && c.perKey === undefined) continue;
    const where = `src/contracts: ${c.name}`;
    if (typeof c.concurrencyKey !== 'function') {
      problems.push(`${where}.perKey is set but concurrencyKey is not a function of the payload`);
      continue;
    }
    if (!(Number.isSafeInteger(c.perKey) && c.perKey! >= 1)) problems.push(`${where}.perKey must be a whole number >= 1 (got ${c.perKey}); 0 would never run a job`);
    let example: unknown;
    try {
      example = exampleOf(z.toJSONSchema(c.schema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>);
    } catch {
      continue;
    }
    const parsed = c.schema.safeParse(example);
    if (!parsed.success) continue; // the example cannot stand for a payload: the check at run time remains
    try {
      keyOf(c, parsed.data);
    } catch (err) {
      problems.push(`${where}.concurrencyKey, tried on the example payload ${JSON.stringify(example)}: ${(err as Error).message.replace(`${c.name}: `, '')}`);
    }
  }
  return problems;
};
