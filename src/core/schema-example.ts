/** A JSON Schema object, as zod's toJSONSchema writes it. */
type JsonSchema = Record<string, unknown>;

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

