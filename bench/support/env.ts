/** Sizes and knobs of a benchmark, overridable from the environment (`BENCH_JOBS=200 npm run bench:…`). */

const raw = (name: string): string | undefined => {
  const value = process.env[name]
  return value === undefined || value.trim() === "" ? undefined : value.trim()
}

export const numberEnv = (name: string, fallback: number): number => {
  const value = raw(name)
  if (value === undefined) return fallback
  const parsed = Number(value)
  if (!Number.isFinite(parsed)) throw new Error(`${name} must be a number, got "${value}"`)
  return parsed
}

export const integerEnv = (name: string, fallback: number): number => {
  const value = numberEnv(name, fallback)
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a whole number ≥ 1, got ${value}`)
  return value
}

/** True unless the variable is unset, empty, "0" or "false". */
export const flagEnv = (name: string): boolean => {
  const value = raw(name)
  return value !== undefined && value !== "0" && value.toLowerCase() !== "false"
}

/**
 * The environment variables of this run that change a benchmark, as they would be typed before the
 * command (`BENCH_REPORT` only says where the tables go).
 */
export const benchOverrides = (): string =>
  Object.entries(process.env)
    .filter(
      ([name, value]) =>
        name.startsWith("BENCH_") && name !== "BENCH_RUSAGE_FILE" && name !== "BENCH_REPORT" && value !== undefined && value !== ""
    )
    .map(([name, value]) => `${name}=${value}`)
    .sort()
    .join(" ")
