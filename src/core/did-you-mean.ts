const distance = (a: string, b: string): number => {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j]!;
      row[j] = Math.min(above + 1, row[j - 1]! + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length]!;
};

/** ` (did you mean "order.sendConfirmation"?)` when a known name is close, else ''. */
export const didYouMean = (wrong: string, known: Iterable<string>): string => {
  let best: string | undefined;
  let bestDistance = Math.max(3, Math.floor(wrong.length / 4)) + 1;
  for (const name of known) {
    const d = distance(wrong.toLowerCase(), name.toLowerCase());
    if (d < bestDistance) [best, bestDistance] = [name, d];
  }
  return best ? ` (did you mean "${best}"?)` : '';
};
