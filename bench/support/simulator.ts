/**
 * The simulator in the benchmark's own process, one fresh instance per contender so every
 * contender starts from empty counters. Placeholder MP4s (no ffmpeg): the benchmarks measure the
 * clients, not video encoding.
 */
import { Effect, Exit, Scope } from "effect"
import * as Simulator from "../../src/sim/Simulator.ts"

export interface RunningSimulator {
  readonly baseUrl: string
  readonly fileBaseUrl: string
  readonly stats: () => Promise<Simulator.SimStats>
  readonly close: () => Promise<void>
}

export const benchApiKey = "bench-key"

export const startSimulator = async (options: Partial<Simulator.SimulatorOptions>): Promise<RunningSimulator> => {
  const scope = Effect.runSync(Scope.make())
  const handle = await Effect.runPromise(Scope.extend(Simulator.make({ ffmpeg: false, apiKey: benchApiKey, ...options }), scope))
  return {
    baseUrl: handle.baseUrl,
    fileBaseUrl: handle.fileBaseUrl,
    stats: () => Effect.runPromise(handle.stats),
    close: () => Effect.runPromise(Scope.close(scope, Exit.void))
  }
}

/** Runs `body` against a fresh simulator, and answers its result with the simulator's final counters. */
export const withSimulator = async <A>(
  options: Partial<Simulator.SimulatorOptions>,
  body: (sim: RunningSimulator) => Promise<A>
): Promise<{ readonly result: A; readonly stats: Simulator.SimStats }> => {
  const sim = await startSimulator(options)
  try {
    const result = await body(sim)
    return { result, stats: await sim.stats() }
  } finally {
    await sim.close()
  }
}

/** Requests to one route ("GET /v1/videos/{video_id}"), 0 when none. */
export const requestsTo = (stats: Simulator.SimStats, route: string): number => stats.requests[route] ?? 0

/** Every request to the API origin (the file host's downloads excluded). */
export const apiRequests = (stats: Simulator.SimStats): number =>
  Object.entries(stats.requests)
    .filter(([route]) => route.includes(" /v1/"))
    .reduce((total, [, n]) => total + n, 0)

export const allRequests = (stats: Simulator.SimStats): number => Object.values(stats.requests).reduce((a, b) => a + b, 0)

/** Accepted POST /v1/videos in all, and beyond one per distinct image+audio pair. */
export const submissions = (stats: Simulator.SimStats): { readonly total: number; readonly distinct: number; readonly repeats: number } => {
  const counts = Object.values(stats.submissions)
  const total = counts.reduce((a, b) => a + b, 0)
  return { total, distinct: counts.length, repeats: total - counts.length }
}
