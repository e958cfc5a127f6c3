import { z } from 'zod';
import { catalog, type AnyContract } from '../contracts/index.ts';
import { jobOptionsFor } from '../core/job-options.ts';
import { META_KEY } from '../core/job-meta.ts';

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

const EXAMPLE_UUID = '3f2b8c4e-9a1d-4e5f-8b6a-7c0d1e2f3a4b';

/** A small valid payload for a schema: required fields only, each at its simplest valid value. */
export const exampleOf = (schema: JsonSchema): unknown => {
  if ('default' in schema) return schema.default;
  if (Array.isArray(schema.enum)) return schema.enum[0];
  switch (schema.type) {
    case 'object': {
      const props = (schema.properties ?? {}) as Record<string, JsonSchema>;
      const required = (schema.required ?? []) as string[];
      return Object.fromEntries(required.filter((k) => props[k]).map((k) => [k, exampleOf(props[k]!)]));
    }
    case 'array':
      return Array.from({ length: Math.max(1, Number(schema.minItems ?? 1)) }, () => exampleOf((schema.items ?? {}) as JsonSchema));
    case 'integer':
    case 'number':
      return typeof schema.minimum === 'number' ? schema.minimum : 1;
    case 'boolean':
      return false;
    case 'string':
      if (schema.format === 'uuid') return EXAMPLE_UUID;
      if (schema.format === 'email') return 'someone@example.com';
      if (schema.format === 'date-time') return '2026-01-01T00:00:00Z';
      return 'x'.repeat(Math.max(1, Number(schema.minLength ?? 1)));
    default:
      return null;
  }
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
