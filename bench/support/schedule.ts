/** Reference schedules for a set of render durations on `slots` parallel slots. */

/** Greedy list scheduling in the given order: each job starts on the slot that frees first. */
export const greedyMakespan = (durations: ReadonlyArray<number>, slots: number): number => {
  const free = Array.from({ length: slots }, () => 0)
  for (const d of durations) {
    let best = 0
    for (let s = 1; s < free.length; s++) if ((free[s] ?? 0) < (free[best] ?? 0)) best = s
    free[best] = (free[best] ?? 0) + d
  }
  return Math.max(...free)
}

/** No schedule can beat this: the total work spread evenly, or the longest job. */
export const makespanLowerBound = (durations: ReadonlyArray<number>, slots: number): number =>
  Math.max(durations.reduce((a, b) => a + b, 0) / slots, ...durations)
