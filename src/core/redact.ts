import { isRecord } from './records.ts';

/** `redis://user:secret@host:6379/0` -> `redis://user:***@host:6379/0`, for logs and errors. */
export const redactUrl = (url: string): string => {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return url.replace(/\/\/[^@/]*@/, '//***@');
  }
};

/** A copy of a payload with the named top-level fields replaced, for anything a person reads. */
export const redactFields = (data: unknown, fields: readonly string[]): unknown => {
  if (!fields.length || !data || typeof data !== 'object' || Array.isArray(data)) return data;
  const copy: Record<string, unknown> = { ...(data as Record<string, unknown>) };
  for (const f of fields) if (f in copy) copy[f] = '[redacted]';
  return copy;
};

const NONE: readonly string[] = Object.freeze([]);

/**
 * The values of the named payload fields as text may carry them: as is, URL-encoded (a path a
 * service call names) and JSON-escaped; longest first, so a value holding another goes whole.
 * Strings and numbers, also inside arrays and objects. None when the task marks no field sensitive.
 */
export const sensitiveValues = (fields: readonly string[], ...payloads: unknown[]): readonly string[] => {
  if (!fields.length) return NONE;
  const found = new Set<string>();
  const add = (v: unknown): void => {
    if (typeof v === 'string' || typeof v === 'number' || typeof v === 'bigint') {
      const s = String(v);
      if (s) for (const form of [s, encodeURIComponent(s), JSON.stringify(s).slice(1, -1)]) found.add(form);
    } else if (Array.isArray(v)) v.forEach(add);
    else if (isRecord(v)) Object.values(v).forEach(add);
  };
  for (const payload of payloads) if (isRecord(payload)) for (const f of fields) if (Object.hasOwn(payload, f)) add(payload[f]);
  return [...found].sort((a, b) => b.length - a.length);
};

export const redactText = (text: string, values: readonly string[]): string => values.reduce((t, v) => t.replaceAll(v, '[redacted]'), text);

/**
 * What BullMQ stores for `value` (its JSON), with every occurrence of `values` in its strings and
 * keys replaced; `value` itself when there is nothing to hide.
 */
export const redactJson = (value: unknown, values: readonly string[]): unknown => {
  if (!values.length || value === undefined) return value;
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') return redactText(v, values);
    if (typeof v === 'number') return values.includes(String(v)) ? '[redacted]' : v;
    if (Array.isArray(v)) return v.map(walk);
    if (isRecord(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [redactText(k, values), walk(x)]));
    return v;
  };
  return walk(JSON.parse(JSON.stringify(value)));
};

/** The error itself, its message and stack cleared of `values`: changed in place, as it is what BullMQ stores. */
export const redactError = <E>(err: E, values: readonly string[]): E => {
  if (values.length && err instanceof Error) {
    err.message = redactText(err.message, values);
    if (err.stack) err.stack = redactText(err.stack, values);
  }
  return err;
};
