import { z } from 'zod';
import { catalog, type AnyContract } from '../contracts/index.ts';
import { didYouMean } from './did-you-mean.ts';
import { InvalidPayloadError, PayloadTooLargeError, UnknownTaskError, type FieldProblem } from './errors.ts';

const contracts: Readonly<Record<string, AnyContract>> = catalog;

export const DEFAULT_MAX_PAYLOAD_BYTES = 512 * 1024;

export const contractOf = (name: string): AnyContract => {
  // Callers in plain JS (or from JSON) can pass anything: answer with the same error, never a TypeError.
  if (typeof name !== 'string') throw new UnknownTaskError(String(name), ': a task name is a string like "order.sendConfirmation"');
  const contract = Object.hasOwn(contracts, name) ? contracts[name] : undefined;
  if (!contract) throw new UnknownTaskError(name, didYouMean(name, Object.keys(contracts)));
  return contract;
};

/** The most fields an error lists; `fieldCount` says how many there were in all. */
export const MAX_FIELDS = 20;
/** Text from the caller (a key, a name) as an error quotes it: at most `max` characters. */
export const clip = (text: string, max = 100): string => (text.length > max ? `${text.slice(0, max)}…` : text);

export interface PayloadProblems {
  /** At most MAX_FIELDS, one per offending field (`items.0.id`), unknown keys each named. */
  fields: FieldProblem[];
  fieldCount: number;
  /** z.prettifyError of the fields listed, and how many more there were. */
  text: string;
}

/**
 * Zod issues, bounded: a body of 38,000 unknown keys (or one key of 100 KB) must not become a
 * megabytes-long error, response or failedReason. Keys and path segments are clipped too.
 */
export const problemsOf = (error: z.ZodError): PayloadProblems => {
  const shown: z.core.$ZodIssue[] = [];
  const fields: FieldProblem[] = [];
  let fieldCount = 0;
  for (const issue of error.issues) {
    const path = issue.path.map((p) => (typeof p === 'string' ? clip(p) : p));
    const base = path.map(String).join('.');
    if (issue.code === 'unrecognized_keys') {
      fieldCount += issue.keys.length;
      const keys = issue.keys.slice(0, MAX_FIELDS - fields.length).map((k) => clip(k));
      if (!keys.length) continue;
      const message = `Unrecognized key${keys.length > 1 ? 's' : ''}: ${keys.map((k) => JSON.stringify(k)).join(', ')}`;
      shown.push({ ...issue, path, keys, message });
      for (const k of keys) fields.push({ path: base ? `${base}.${k}` : k, message: 'unknown field' });
      continue;
    }
    fieldCount += 1;
    if (fields.length >= MAX_FIELDS) continue;
    const message = clip(issue.message, 300);
    shown.push({ ...issue, path, message } as z.core.$ZodIssue);
    fields.push({ path: base || '(payload)', message });
  }
  const more = fieldCount - fields.length;
  const text = z.prettifyError(new z.ZodError(shown)) + (more > 0 ? `\n… and ${more} more (${fieldCount} fields in all)` : '');
  return { fields, fieldCount, text };
};

/** Parses a payload against its contract; the error names the failing fields (at most MAX_FIELDS, with their count). */
export const parsePayload = (contract: AnyContract, payload: unknown): unknown => {
  const result = contract.schema.safeParse(payload);
  if (!result.success) {
    const { fields, fieldCount, text } = problemsOf(result.error);
    throw new InvalidPayloadError(contract.name, text, fields, fieldCount);
  }
  return result.data;
};

export const assertPayloadSize = (name: string, payload: unknown, limit: number): void => {
  let json: string;
  try {
    json = JSON.stringify(payload) ?? '';
  } catch (err) {
    // BigInt, circular references: what Redis would get is not what the caller meant.
    throw new InvalidPayloadError(name, `the payload is not JSON: ${(err as Error).message.split('\n')[0]}`);
  }
  // Cheap upper bound first: most payloads are a few ids.
  if (json.length * 3 <= limit) return;
  const bytes = Buffer.byteLength(json);
  if (bytes > limit) throw new PayloadTooLargeError(name, bytes, limit);
};

/** The edge check shared by the producer lib, the HTTP API and beat. */
export const validateTask = (name: string, payload: unknown, maxBytes = DEFAULT_MAX_PAYLOAD_BYTES) => {
  const contract = contractOf(name);
  assertPayloadSize(name, payload, maxBytes);
  return { contract, payload: parsePayload(contract, payload) };
};
