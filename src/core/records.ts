/** A plain JSON object (not null, not an array): what job data and its `$hub` metadata must be. */
export type JsonRecord = Record<string, unknown>;

export const isRecord = (v: unknown): v is JsonRecord => typeof v === 'object' && v !== null && !Array.isArray(v);
