/** Plain-text tables for people; scripts use --json. */
export const table = (header: readonly string[], rows: readonly (readonly unknown[])[], maxCell = 60): string => {
  const cells = rows.map((r) => r.map((c) => clipCell(c === undefined || c === null ? '' : String(c), maxCell)));
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((r) => r[i]?.length ?? 0)));
  const line = (r: readonly string[]) =>
    r
      .map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n') + '\n';
};

const clipCell = (text: string, max: number) => {
  const one = text.replace(/\s+/g, ' ');
  return one.length > max ? `${one.slice(0, max - 1)}…` : one;
};

/** `key: value` lines, for one record. */
export const fields = (record: Record<string, unknown>): string => {
  const entries = Object.entries(record).filter(([, v]) => v !== undefined);
  const width = Math.max(...entries.map(([k]) => k.length));
  return entries.map(([k, v]) => `${k.padEnd(width)}  ${typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v)}`).join('\n') + '\n';
};

export const time = (ms: number | undefined | null): string => (ms ? new Date(ms).toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z') : '');
