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
