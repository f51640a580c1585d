/**
 * "Did you mean …?" suggestions for names the user mistyped: template variables and filters,
 * YAML keys. Pure and deterministic.
 */

/**
 * Optimal-string-alignment edit distance (Damerau-Levenshtein restricted to adjacent
 * transpositions): insertions, deletions, substitutions and swaps of two neighbours cost 1 each.
 * Counts UTF-16 code units.
 */
export const editDistance = (a: string, b: string): number => {
  if (a === b) return 0
  if (a.length === 0) return b.length
  if (b.length === 0) return a.length
  const width = b.length + 1
  // Three rolling rows: two rows back (for transpositions), previous, current.
  let before = new Array<number>(width).fill(0)
  let previous = Array.from({ length: width }, (_, j) => j)
  let current = new Array<number>(width).fill(0)
  for (let i = 1; i <= a.length; i++) {
    current[0] = i
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      let best = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + cost)
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        best = Math.min(best, (before[j - 2] ?? 0) + 1)
      }
      current[j] = best
    }
    ;[before, previous, current] = [previous, current, before]
  }
  return previous[b.length] ?? 0
}

/** The largest distance still taken for a typo of `input`: one edit per three characters, at least one. */
export const typoThreshold = (input: string): number => Math.max(1, Math.floor(input.length / 3))

/**
 * The candidate closest to `input`, when it is close enough to be a plausible typo
 * (case-insensitive edit distance ≤ `typoThreshold(input)`); otherwise `undefined`.
 *
 * Ranking: smallest case-insensitive distance, then smallest case-sensitive distance, then the
 * candidate that sorts first (by UTF-16 code units) — so the answer never depends on the order
 * the candidates come in. An empty input has no suggestion.
 */
export const didYouMean = (input: string, candidates: Iterable<string>): string | undefined => {
  if (input.length === 0) return undefined
  const limit = typoThreshold(input)
  const folded = input.toLowerCase()
  let best: { readonly candidate: string; readonly folded: number; readonly exact: number } | undefined
  for (const candidate of candidates) {
    const foldedCandidate = candidate.toLowerCase()
    if (Math.abs(foldedCandidate.length - folded.length) > limit) continue
    const foldedDistance = editDistance(folded, foldedCandidate)
    if (foldedDistance > limit) continue
    const exactDistance = editDistance(input, candidate)
    if (
      best === undefined ||
      foldedDistance < best.folded ||
      (foldedDistance === best.folded && (exactDistance < best.exact || (exactDistance === best.exact && candidate < best.candidate)))
    ) {
      best = { candidate, folded: foldedDistance, exact: exactDistance }
    }
  }
  return best?.candidate
}
