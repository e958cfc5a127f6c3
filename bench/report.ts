export interface Figure {
  figure: string;
  unit: string;
  /** Which way is better, so the ratio reads the same for every row. */
  better: 'higher' | 'lower';
  hub: number;
  raw: number;
  hubRuns: number[];
  rawRuns: number[];
  /** Column names when the two sides are not hub and raw BullMQ (the cluster rows: cluster and one Redis). */
  sides?: [string, string];
}

export const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

const round = (x: number) => (Math.abs(x) >= 100 ? Math.round(x) : Math.round(x * 100) / 100);

export const ratio = (f: Figure): number => (f.raw === 0 ? NaN : f.hub / f.raw);

/** One JSON line per figure: medians, each run, and hub/raw. */
export const jsonLine = (f: Figure): string =>
  JSON.stringify({
    figure: f.figure,
    unit: f.unit,
    better: f.better,
    hub: round(f.hub),
    raw: round(f.raw),
    ratio: Math.round(ratio(f) * 1_000) / 1_000,
    hubRuns: f.hubRuns.map(round),
    rawRuns: f.rawRuns.map(round),
    ...(f.sides ? { sides: f.sides } : {}),
  });

/** Markdown tables (pasted as is into the README): hub against raw BullMQ, then one per other pair of sides. */
export const table = (figures: Figure[]): string => {
  const groups = new Map<string, Figure[]>();
  for (const f of figures) {
    const key = (f.sides ?? ['hub', 'raw BullMQ']).join('\0');
    groups.set(key, [...(groups.get(key) ?? []), f]);
  }
  return [...groups]
    .map(([key, group]) => {
      const [a, b] = key.split('\0') as [string, string];
      const rows = group.map((f) => {
        const r = ratio(f);
        const delta = f.unit === 'ms' ? ` (${f.hub - f.raw >= 0 ? '+' : ''}${(f.hub - f.raw).toFixed(2)} ms)` : '';
        // A figure only one side has (raw 0: what tracing costs) has no ratio.
        return `| ${f.figure} | ${f.unit} | ${round(f.hub)} | ${round(f.raw)} | ${Number.isFinite(r) ? `${r.toFixed(2)}${delta}` : '—'} |`;
      });
      const ratioName = a === 'hub' ? 'hub/raw' : `${a}/${b}`;
      return [`| figure | unit | ${a} | ${b} | ${ratioName} |`, '|---|---|---:|---:|---:|', ...rows].join('\n');
    })
    .join('\n\n');
};
