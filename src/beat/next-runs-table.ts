import { nextRuns } from './engine.ts';
import type { PlannedEntry } from './plan-entries.ts';

const formatters = new Map<string, Intl.DateTimeFormat>();

/** `2026-03-29 03:30:00 CEST`: local time in the entry's zone, with the zone's abbreviation. */
export const formatIn = (tz: string, ms: number): string => {
  let f = formatters.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('sv-SE', {
      timeZone: tz,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      timeZoneName: 'short',
    });
    formatters.set(tz, f);
  }
  return f.format(ms);
};

const every = (ms: number): string =>
  ms % 3_600_000 === 0 ? `every ${ms / 3_600_000} h` : ms % 60_000 === 0 ? `every ${ms / 60_000} min` : `every ${ms / 1_000} s`;

/**
 * One row per entry with its next `count` runs in its own zone. Interval entries start from
 * the scheduler's next run in Redis when known (`nextById`), as BullMQ aligns them at creation.
 */
export const nextRunsTable = (entries: readonly PlannedEntry[], now: number, nextById: ReadonlyMap<string, number> = new Map(), count = 3): string => {
  const rows = entries.map((e) => {
    const tz = e.repeat.tz ?? 'UTC';
    const known = nextById.get(e.id);
    const runs = e.repeat.every
      ? (known !== undefined ? [known, ...nextRuns(e.repeat, known, count - 1)] : nextRuns(e.repeat, now, count))
      : nextRuns(e.repeat, now, count);
    return [e.id, e.task, e.repeat.pattern ?? every(e.repeat.every!), tz, runs.map((r) => formatIn(tz, r)).join(', ')];
  });
  const header = ['schedule', 'task', 'when', 'tz', `next ${count} runs (local time)`];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ');
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n') + '\n';
};
