/** Figures as the report reads them: durations, money, counts. */

/** `0.4 s`, `12 s`, `3 min 07 s`, `2 h 05 min`, `3 d 4 h`: to the two units that matter. */
export const formatSpan = (ms: number): string => {
  if (!Number.isFinite(ms) || ms <= 0) return "0 s"
  if (ms < 10_000) return `${(Math.round(ms / 100) / 10).toFixed(1)} s`
  const seconds = Math.round(ms / 1000)
  if (seconds < 60) return `${seconds} s`
  const minutes = Math.floor(seconds / 60)
  if (minutes < 60) return `${minutes} min ${String(seconds % 60).padStart(2, "0")} s`
  const hours = Math.floor(minutes / 60)
  if (hours < 24) return `${hours} h ${String(minutes % 60).padStart(2, "0")} min`
  return `${Math.floor(hours / 24)} d ${hours % 24} h`
}

/** An axis label: `0`, `30 s`, `2 min`, `1 h 30 min`. */
export const formatTick = (ms: number): string => {
  if (ms === 0) return "0"
  if (ms < 60_000) return `${Math.round(ms / 1000)} s`
  if (ms < 3_600_000) {
    const s = Math.round(ms / 1000)
    return s % 60 === 0 ? `${s / 60} min` : `${Math.floor(s / 60)} min ${s % 60} s`
  }
  const m = Math.round(ms / 60_000)
  if (ms < 86_400_000) return m % 60 === 0 ? `${m / 60} h` : `${Math.floor(m / 60)} h ${m % 60} min`
  const h = Math.round(ms / 3_600_000)
  return h % 24 === 0 ? `${h / 24} d` : `${Math.floor(h / 24)} d ${h % 24} h`
}

export const usd = (amount: number): string => `$${amount.toFixed(2)}`

/** `1 job`, `3 jobs`. */
export const plural = (n: number, one: string, many = `${one}s`): string => `${n.toLocaleString("en-US")} ${n === 1 ? one : many}`

/** A local-free time stamp people read the same everywhere: `2026-05-02 14:03:07 UTC`. */
export const formatInstant = (iso: string): string => {
  const ms = Date.parse(iso)
  if (Number.isNaN(ms)) return iso
  return `${new Date(ms).toISOString().slice(0, 19).replace("T", " ")} UTC`
}
