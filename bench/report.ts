export interface Figure {
  figure: string;
  unit: string;
  /** Which way is better, so the ratio reads the same for every row. */
  better: 'higher' | 'lower';
  hub: number;
  raw: number;
  hubRuns: number[];
  rawRuns: number[];
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
  });

/** A markdown table (pasted as is into the README). */
export const table = (figures: Figure[]): string => {
  const rows = figures.map((f) => {
    const r = ratio(f);
    const delta = f.unit === 'ms' ? ` (${f.hub - f.raw >= 0 ? '+' : ''}${(f.hub - f.raw).toFixed(2)} ms)` : '';
    return `| ${f.figure} | ${f.unit} | ${round(f.hub)} | ${round(f.raw)} | ${r.toFixed(2)}${delta} |`;
  });
  return ['| figure | unit | hub | raw BullMQ | hub/raw |', '|---|---|---:|---:|---:|', ...rows].join('\n');
};
