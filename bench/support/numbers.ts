/** Summaries of measured samples, and how figures are printed in the tables. */

export const sum = (xs: ReadonlyArray<number>): number => xs.reduce((a, b) => a + b, 0)

export const mean = (xs: ReadonlyArray<number>): number => (xs.length === 0 ? Number.NaN : sum(xs) / xs.length)

/** The q-quantile (0..1) by linear interpolation between closest ranks. */
export const quantile = (xs: ReadonlyArray<number>, q: number): number => {
  if (xs.length === 0) return Number.NaN
  const sorted = [...xs].sort((a, b) => a - b)
  const position = (sorted.length - 1) * q
  const low = Math.floor(position)
  const high = Math.ceil(position)
  const a = sorted[low] ?? Number.NaN
  const b = sorted[high] ?? Number.NaN
  return a + (b - a) * (position - low)
}

export const median = (xs: ReadonlyArray<number>): number => quantile(xs, 0.5)

/** `1234.5` → `"1,234.5"` with `digits` decimals. */
export const fmt = (x: number, digits = 0): string =>
  Number.isFinite(x) ? x.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits }) : "–"

export const seconds = (ms: number, digits = 2): string => `${fmt(ms / 1000, digits)} s`

export const percent = (x: number, digits = 1): string => `${fmt(100 * x, digits)} %`
