/**
 * When to look at a rendering job again. The provider reports `progress`; from the rate so far
 * the finish is estimated and the next poll aimed just after it, so a job costs few status
 * requests and its download starts soon after it completes. Always within [interval, maxInterval].
 */
export interface PollTiming {
  readonly intervalMs: number
  readonly maxIntervalMs: number
  /** Since the job was submitted. */
  readonly elapsedMs: number
  /** Last reported progress, 0–100, or null when the provider reports none. */
  readonly progress: number | null
  /** The previous delay (0 before the first poll). */
  readonly previousMs: number
  /** A uniform random number in [0, 1), for jitter. */
  readonly unit: number
}

/** Aim a little past the estimated finish: landing just before it costs a whole extra poll. */
const overshoot = 1.05

export const nextPollDelay = (t: PollTiming): number => {
  const clamp = (ms: number) => Math.min(t.maxIntervalMs, Math.max(t.intervalMs, Math.round(ms)))
  if (t.previousMs === 0) return clamp(t.intervalMs * (1 + 0.1 * t.unit))
  if (t.progress !== null && t.progress > 0 && t.progress < 100) {
    const remaining = (t.elapsedMs * (100 - t.progress)) / t.progress
    return clamp(remaining * overshoot + t.intervalMs * 0.1 * t.unit)
  }
  // No usable progress: back off geometrically, with jitter so many jobs do not poll in step.
  return clamp(t.previousMs * (1.5 + 0.2 * t.unit))
}
