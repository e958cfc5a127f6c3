import { z } from 'zod';
import { events } from '../../events.ts';
import type { AnyEvents, AnyEventSpec } from '../contracts/events.ts';
import { contractOf } from '../core/validate.ts';
import { exampleOf } from './task-schemas.ts';

type JsonSchema = Record<string, unknown>;

const hubEvents: AnyEvents = events;
const cache = new Map<string, JsonSchema>();

/** The event's JSON Schema as a publisher writes it (fields with defaults are optional). */
export const eventJsonSchemaOf = (name: string, spec: AnyEventSpec): JsonSchema => {
  let schema = cache.get(name);
  if (!schema) {
    schema = z.toJSONSchema(spec.schema, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
    cache.set(name, schema);
  }
  return schema;
};

/** One entry of GET /api/v1/events: the event, its JSON Schema, a valid example, and the tasks it fans out to. */
export const describeEvent = (name: string, spec: AnyEventSpec = hubEvents[name]!) => {
  const schema = eventJsonSchemaOf(name, spec);
  return {
    name,
    description: spec.description,
    schema,
    example: exampleOf(schema),
    subscribers: spec.subscribers.map(({ task }) => {
      const contract = contractOf(task);
      return { task, queue: contract.queue, description: contract.description };
    }),
  };
};

export const eventCatalog = () => Object.keys(hubEvents).map((name) => describeEvent(name));
