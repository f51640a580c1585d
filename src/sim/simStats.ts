import { Effect, HashMap, Option, Ref } from "effect"

/**
 * The counters tests read to prove what reached the server ("submitted once"), answered by
 * `GET /__sim/stats` and `SimulatorHandle.stats`.
 */
export interface SimStats {
  /** Keyed "METHOD /route/{template}", e.g. "GET /v1/videos/{video_id}" or "GET /files/{file}". */
  readonly requests: Record<string, number>
  /** Keyed "<sha256 of image bytes>:<sha256 of audio bytes>": accepted POST /v1/videos. */
  readonly submissions: Record<string, number>
  /** Video jobs by their current status. */
  readonly jobs: Record<string, number>
  /** Keyed like `requests`: the 429s answered because a key was over its quota (not `throttleRps`). */
  readonly refused: Record<string, number>
}

export interface SimCounters {
  readonly countRequest: (route: string) => Effect.Effect<void>
  readonly countSubmission: (key: string) => Effect.Effect<void>
  readonly countRefusal: (route: string) => Effect.Effect<void>
  readonly requests: Effect.Effect<Record<string, number>>
  readonly submissions: Effect.Effect<Record<string, number>>
  readonly refused: Effect.Effect<Record<string, number>>
}

const increment = (key: string) => (counts: HashMap.HashMap<string, number>) =>
  HashMap.modifyAt(counts, key, (current) => Option.some(Option.getOrElse(current, () => 0) + 1))

const toRecord = (counts: HashMap.HashMap<string, number>): Record<string, number> =>
  Object.fromEntries([...HashMap.entries(counts)].sort(([a], [b]) => a.localeCompare(b)))

export const makeSimCounters: Effect.Effect<SimCounters> = Effect.gen(function* () {
  // Persistent maps: thousands of distinct submissions in a benchmark stay cheap to update.
  const requests = yield* Ref.make(HashMap.empty<string, number>())
  const submissions = yield* Ref.make(HashMap.empty<string, number>())
  const refused = yield* Ref.make(HashMap.empty<string, number>())
  return {
    countRequest: (route) => Ref.update(requests, increment(route)),
    countSubmission: (key) => Ref.update(submissions, increment(key)),
    countRefusal: (route) => Ref.update(refused, increment(route)),
    requests: Effect.map(Ref.get(requests), toRecord),
    submissions: Effect.map(Ref.get(submissions), toRecord),
    refused: Effect.map(Ref.get(refused), toRecord)
  }
})
