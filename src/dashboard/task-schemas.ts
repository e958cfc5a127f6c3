import { z } from 'zod';
import { catalog, type AnyContract } from '../contracts/index.ts';
import { jobOptionsFor } from '../core/job-options.ts';
import { META_KEY } from '../core/job-meta.ts';
import { exampleOf } from '../core/schema-example.ts';

export { exampleOf };

type JsonSchema = Record<string, unknown>;

const cache = new Map<string, JsonSchema>();

/** The payload's JSON Schema as a caller writes it (fields with defaults are optional). */
export const jsonSchemaOf = (contract: AnyContract): JsonSchema => {
  let schema = cache.get(contract.name);
  if (!schema) {
    schema = z.toJSONSchema(contract.schema, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
    cache.set(contract.name, schema);
  }
  return schema;
};

/** One catalog entry of GET /api/v1/tasks. */
export const describeTask = (contract: AnyContract) => {
  const schema = jsonSchemaOf(contract);
  const { attempts, backoff } = jobOptionsFor(contract);
  return {
    name: contract.name,
    domain: contract.domain,
    queue: contract.queue,
    description: contract.description,
    timeoutMs: contract.timeoutMs,
    retry: { attempts, backoff },
    sensitive: contract.sensitive,
    ...(contract.expiresAfterMs !== undefined ? { expiresAfterMs: contract.expiresAfterMs } : {}),
    schema,
    example: exampleOf(schema),
  };
};

export const contractsOnQueue = (queue: string): AnyContract[] =>
  Object.values(catalog as Record<string, AnyContract>).filter((c) => c.queue === queue);

/**
 * The add-job form's schema for one queue: any of its tasks' payloads (the task name goes in
 * "Job name"), pre-filled with the first task's example. `$hub` is allowed so a duplicated job
 * does not show as invalid.
 */
export const boardJobDataSchema = (queue: string): JsonSchema => {
  const variants = contractsOnQueue(queue).map((c) => {
    const { $schema: _, ...schema } = jsonSchemaOf(c) as JsonSchema & { properties?: object };
    return { ...schema, title: c.name, description: c.description, properties: { ...schema.properties, [META_KEY]: { type: 'object' } } };
  });
  const first = variants[0];
  return {
    description: `Job name: one of ${variants.map((v) => v.title).join(', ')}`,
    anyOf: variants,
    ...(first ? { examples: [exampleOf(first)] } : {}),
  };
};
