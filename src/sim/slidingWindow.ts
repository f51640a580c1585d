/**
 * A sliding-window rate limit: at most `limit` admitted requests in any interval
 * (now − windowMs, now]; refused requests are not recorded, so they never push the window out.
 *
 * Only the times of the last `limit` admissions matter: a new request is admitted when fewer than
 * `limit` have been admitted so far, or when the oldest of those last `limit` has left the window.
 * They are kept in a ring that grows up to `limit`, so an admission costs O(1) however generous
 * the limit (a benchmark may allow 100,000 a minute) and memory is bounded by what was admitted.
 *
 * The ring is mutable: callers touch it only inside one synchronous step (`Effect.sync`), where no
 * other fiber can interleave.
 */
export interface SlidingWindow {
  /** Admits (and records) a request at `nowMs`: 0; or refuses it: the ms until a slot frees (> 0). */
  readonly tryAdmit: (nowMs: number) => number
}

export const makeSlidingWindow = (limit: number, windowMs: number): SlidingWindow => {
  const capacity = Math.max(1, Math.floor(limit))
  const times: Array<number> = []
  // Index of the oldest of the last `capacity` admissions, once the ring is full.
  let oldest = 0
  return {
    tryAdmit: (nowMs) => {
      if (times.length < capacity) {
        times.push(nowMs)
        return 0
      }
      const frees = (times[oldest] ?? nowMs) + windowMs
      if (frees > nowMs) return frees - nowMs
      times[oldest] = nowMs
      oldest = (oldest + 1) % capacity
      return 0
    }
  }
}

/** Whole seconds to wait for `ms`, at least 1: what a `Retry-After` header carries. */
export const retryAfterSeconds = (ms: number): number => Math.max(1, Math.ceil(ms / 1000))
