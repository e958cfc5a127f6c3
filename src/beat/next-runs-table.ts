import { nextRuns } from './engine.ts';
import type { FirstRun } from './first-run.ts';
import type { PlannedEntry } from './plan-entries.ts';

const formatters = new Map<string, Intl.DateTimeFormat>();
const partsIn = (tz: string, ms: number): Record<string, string> => {
  let f = formatters.get(tz);
  if (!f) {
    const two = '2-digit' as const;
    f = new Intl.DateTimeFormat('en-US', { timeZone: tz, hourCycle: 'h23', year: 'numeric', month: two, day: two, hour: two, minute: two, second: two });
    formatters.set(tz, f);
  }
  return Object.fromEntries(f.formatToParts(ms).map((p) => [p.type, p.value]));
};

const pad = (n: number) => String(n).padStart(2, '0');

/**
 * `2026-03-29 03:30:00 +02:00`: local time in `tz` and its UTC offset, the same form in every
 * zone. The offset is computed, not Intl's zone name, which mixes abbreviations (`CEST`) with
 * `GMT−5` (a Unicode minus) depending on the zone.
 */
export const formatIn = (tz: string, ms: number): string => {
  const p = partsIn(tz, ms);
  const wall = Date.UTC(Number(p.year), Number(p.month) - 1, Number(p.day), Number(p.hour), Number(p.minute), Number(p.second));
  const offset = Math.round((wall - Math.floor(ms / 1_000) * 1_000) / 60_000);
  const abs = Math.abs(offset);
  return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}:${p.second} ${offset < 0 ? '-' : '+'}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
};

const every = (ms: number): string =>
  ms % 3_600_000 === 0 ? `every ${ms / 3_600_000} h` : ms % 60_000 === 0 ? `every ${ms / 60_000} min` : `every ${ms / 1_000} s`;

/**
 * One row per entry with its next `count` runs in its own zone. An interval entry starts at its
 * first run (`firstRuns`, see first-run.ts); without one it has no scheduler yet, and BullMQ
 * fires a new interval scheduler at once: `now`. A paused entry has no runs until resumed.
 */
export const nextRunsTable = (
  entries: readonly PlannedEntry[],
  now: number,
  firstRuns: ReadonlyMap<string, FirstRun> = new Map(),
  count = 3,
  paused: ReadonlySet<string> = new Set(),
): string => {
  const rows = entries.map((e) => {
    const tz = e.repeat.tz ?? 'UTC';
    const when = e.repeat.pattern ?? every(e.repeat.every!);
    if (paused.has(e.id)) return [e.id, e.task, when, tz, `paused (task-hub schedules resume ${e.id})`];
    let runs: (number | 'now')[];
    if (e.repeat.every) {
      const first = firstRuns.get(e.id) ?? 'now';
      runs = [first, ...nextRuns(e.repeat, first === 'now' ? now : first, count - 1)];
    } else {
      runs = nextRuns(e.repeat, now, count);
    }
    return [e.id, e.task, when, tz, runs.map((r) => (r === 'now' ? r : formatIn(tz, r))).join(', ')];
  });
  const header = ['schedule', 'task', 'when', 'tz', `next ${count} runs (local time in tz, UTC offset)`];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ');
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n') + '\n';
};
