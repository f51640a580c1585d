/** Times, durations and sizes as people read them in progress output. */

const pad2 = (n: number): string => String(n).padStart(2, "0")

/**
 * A duration, rounded down to the second: `0s`, `42s`, `3m07s`, `1h05m`. Negative or non-finite
 * durations read as `0s`.
 */
export const formatDuration = (ms: number): string => {
  const seconds = Number.isFinite(ms) && ms > 0 ? Math.floor(ms / 1000) : 0
  if (seconds < 60) return `${seconds}s`
  const minutes = Math.floor(seconds / 60)
  if (minutes < 60) return `${minutes}m${pad2(seconds % 60)}s`
  return `${Math.floor(minutes / 60)}h${pad2(minutes % 60)}m`
}

/** A delay as a whole number of seconds, rounded up (a 1.2 s wait reads `2s`, never `0s` while it lasts). */
export const formatWait = (ms: number): string => `${Math.max(0, Math.ceil(ms / 1000))}s`

/** The local wall-clock time of an ISO 8601 instant, `HH:MM:SS`; the text itself if it does not parse. */
export const formatClock = (iso: string): string => {
  const date = new Date(iso)
  if (Number.isNaN(date.getTime())) return iso
  return `${pad2(date.getHours())}:${pad2(date.getMinutes())}:${pad2(date.getSeconds())}`
}

/** Milliseconds since the epoch of an ISO 8601 instant, or `undefined` if it does not parse. */
export const parseInstant = (iso: string): number | undefined => {
  const ms = Date.parse(iso)
  return Number.isNaN(ms) ? undefined : ms
}

/** A byte count in decimal units: `512 B`, `3.4 kB`, `12.0 MB`, `1.20 GB`. */
export const formatBytes = (bytes: number): string => {
  if (bytes < 1000) return `${bytes} B`
  if (bytes < 1_000_000) return `${(bytes / 1000).toFixed(1)} kB`
  if (bytes < 1_000_000_000) return `${(bytes / 1_000_000).toFixed(1)} MB`
  return `${(bytes / 1_000_000_000).toFixed(2)} GB`
}
