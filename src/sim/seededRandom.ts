/**
 * A tiny deterministic PRNG (mulberry32). The simulator keeps its state in a `Ref` and steps it
 * with pure functions, so a decision that needs several numbers draws them atomically.
 */

/** FNV-1a: turns a seed plus a stream name into independent 32-bit starting states. */
export const seedState = (seed: number, stream: string): number => {
  let hash = 0x811c9dc5
  for (const char of `${seed}:${stream}`) {
    hash ^= char.charCodeAt(0)
    hash = Math.imul(hash, 0x01000193)
  }
  return hash >>> 0
}

/** One step: a number in [0, 1) and the next state. */
export const step = (state: number): readonly [number, number] => {
  const next = (state + 0x6d2b79f5) | 0
  let t = Math.imul(next ^ (next >>> 15), 1 | next)
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
  return [((t ^ (t >>> 14)) >>> 0) / 4294967296, next >>> 0]
}

/** `count` numbers in [0, 1) and the state after them. */
export const draw = (state: number, count: number): readonly [ReadonlyArray<number>, number] => {
  const values: Array<number> = []
  let current = state
  for (let i = 0; i < count; i++) {
    const [value, next] = step(current)
    values.push(value)
    current = next
  }
  return [values, current]
}
