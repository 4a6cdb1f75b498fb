/** "did you mean" for a misspelt key (pure). */

/** Levenshtein distance (small strings: keys and section names). */
function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length]!;
}

/** The closest of `choices` to `word` when it is close enough (a third of its length, at least 2 edits), else undefined. */
export function didYouMean(word: string, choices: readonly string[]): string | undefined {
  const w = word.toLowerCase();
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of choices) {
    const d = distance(w, c.toLowerCase());
    if (d < bestD) {
      best = c;
      bestD = d;
    }
  }
  return best !== undefined && bestD <= Math.max(2, Math.floor(word.length / 3)) ? best : undefined;
}

/** `one of the keys a, b, c` plus ` (did you mean "b"?)` when one is close. */
export function expectedKey(word: string, choices: readonly string[], what = 'one of the keys'): string {
  const near = didYouMean(word, choices);
  return `${what} ${choices.join(', ')}${near === undefined ? '' : ` (did you mean "${near}"?)`}`;
}
