/** The most arrivals (sorted times, ms) inside any window [t, t + windowMs) starting at an arrival. */
export const maxInWindow = (sorted: readonly number[], windowMs: number): number => {
  let most = 0;
  for (let i = 0, j = 0; i < sorted.length; i++) {
    while (j < sorted.length && sorted[j]! < sorted[i]! + windowMs) j++;
    most = Math.max(most, j - i);
  }
  return most;
};

/** The rate calls arrived at (n - 1 gaps from first to last), as a share of the limit's. */
export const utilisation = (sorted: readonly number[], limit: { max: number; perMs: number }): number =>
  ((sorted.length - 1) / (sorted.at(-1)! - sorted[0]!)) * (limit.perMs / limit.max);

/** How many pairs of [start, end) intervals overlap. */
export const overlaps = (intervals: readonly (readonly [number, number])[]): number => {
  const sorted = [...intervals].sort((a, b) => a[0] - b[0]);
  let count = 0;
  for (let i = 1; i < sorted.length; i++) if (sorted[i]![0] < sorted[i - 1]![1]) count++;
  return count;
};
