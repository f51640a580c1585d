/**
 * The provider's quotas, per organisation (per API key) and per kind of request:
 * - shared: two runs of two pipelines at once, with the same key and base URL, share the key's
 *   quota through the slot files under `$CLAPPER_QUOTA_DIR` (each run builds its own ledger over
 *   the same folder, as two processes do). The simulator enforces the quota; the proxy in front of
 *   it logs when each generation request came. Without the sharing, the same runs are refused.
 * - published: a campaign with default settings (no `provider.limits`, no `--quota`) against a
 *   simulator enforcing the published 2 generations a minute, on the TestClock.
 */
import { NodeContext } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Fiber, TestClock } from "effect"
import { runPipeline } from "../../src/app/runPipeline.ts"
import { spacingMs } from "../../src/mirage/quotas.ts"
import type { RunEvent } from "../../src/runtime/events.ts"
import * as Simulator from "../../src/sim/Simulator.ts"
import { isSubmitRequest } from "../support/faultProxy.ts"
import { tempProject } from "../support/tempProject.ts"
import { roomyQuotas } from "../support/testQuotas.ts"
import { campaign, eventsOf, expectCompleted, freshQuotaDir, rig, runVia, total } from "./support.ts"

/**
 * Scaled: 60 generations a minute instead of 2, as 6 per 6 s on both sides (a 60 s window would
 * let a short test's whole burst through and prove nothing). Not faster: between its turn at the
 * gate and its arrival a request waits for the journal's fsync and for its form to be laid out,
 * and in one busy test process that varies by tens of milliseconds; the runs' 2 % margin on the
 * spacing (20 ms a request here, 600 ms at the published quota) must stay above that.
 */
const generation = { count: 6, perMs: 6000 }
const quotas = { ...roomyQuotas, generation }
const spacing = spacingMs(generation) // 1000 ms

/** Two pipelines, four renders each, run at once on one key through one base URL, one quota folder. */
const twoRunsAtOnce = (shareQuota: boolean) => {
  const project = tempProject()
  const alpha = campaign(4, { project, name: "alpha", salt: 1 })
  const beta = campaign(4, { project, name: "beta", salt: 2 })
  const warmUp = campaign(1, { project, name: "warmup", salt: 3 })
  freshQuotaDir()
  return Effect.runPromise(
    Effect.scoped(
      Effect.gen(function* () {
        const r = yield* rig({ renderFactor: 0, quotas })
        // A first run's first requests carry the process's one-time costs (code paths compiled,
        // connections opened), tens of milliseconds the runtime does not control: spent here, on
        // another key, so that they do not count against the 20 ms margin under test.
        yield* runVia(r, warmUp, { apiKey: "warm-up-key", shareQuota: false, settings: { quotas } })
        const warmedUp = r.proxy.log.length
        const options = { shareQuota, settings: { quotas } }
        const [a, b] = yield* Effect.all([runVia(r, alpha, options), runVia(r, beta, options)], { concurrency: 2 })
        const posts = r.proxy.log
          .slice(warmedUp)
          .filter((e) => isSubmitRequest(e) && e.status === 200)
          .map((e) => e.at)
        return { a, b, stats: yield* r.sim.stats, posts }
      })
    ).pipe(Effect.provide(NodeContext.layer))
  )
}

const gaps = (times: ReadonlyArray<number>) => times.slice(1).map((t, i) => t - times[i]!)

describe("a key's quota shared by two runs at once", () => {
  it("with the ledger (the default): no refusal, and the generation requests of both runs a quota spacing apart", async () => {
    const { a, b, stats, posts } = await twoRunsAtOnce(true)
    expectCompleted(a.summary, 4)
    expectCompleted(b.summary, 4)
    expect(stats.refused["POST /v1/videos"] ?? 0).toBe(0)
    expect(total(stats.submissions)).toBe(1 + 8) // the warm-up, then the two runs
    // Generation requests in arrival order, whichever run sent them: a spacing apart (the runs
    // aim at spacing × 1.02; 5 % is left for the jitter between the gate and the wire).
    expect(posts).toHaveLength(8)
    const seen = `gaps: ${gaps(posts)
      .map((g) => g.toFixed(0))
      .join(", ")} ms`
    expect(Math.min(...gaps(posts)), seen).toBeGreaterThanOrEqual(spacing * 0.95)
  }, 30_000)

  it("without it (shareQuota: false) the same two runs are refused: the test of the mechanism can fail", async () => {
    const { a, b, stats, posts } = await twoRunsAtOnce(false)
    // A 429 fails nothing: both runs still complete.
    expectCompleted(a.summary, 4)
    expectCompleted(b.summary, 4)
    expect(stats.refused["POST /v1/videos"] ?? 0).toBeGreaterThan(0)
    expect(Math.min(...gaps(posts))).toBeLessThan(spacing / 2)
  }, 30_000)
})

/** Real time for the I/O that a step of the clock let loose: sockets, files. */
const letIoHappen = Effect.promise(() => new Promise<void>((resolve) => setTimeout(resolve, 2)))

describe("the published quotas, with default settings", () => {
  /**
   * Minutes of the provider's time in seconds of the test's: both sides run on the TestClock (the
   * simulator follows the Clock of the fiber that made it, and so does the run), while the HTTP on
   * loopback, the files and the journal are real. The clock advances in small steps, with real
   * time for I/O between them.
   */
  it.scoped(
    "3 renders at 2 generations a minute: every job completes, none refused, none failed for throttling",
    () =>
      Effect.gen(function* () {
        const file = campaign(3)
        // The simulator's defaults: the published quotas, jobs QUEUED for 2 s, render time 4 × the audio.
        const sim = yield* Simulator.make({ ffmpeg: false })
        expect(sim.options.quotas.generation).toEqual({ count: 2, perMs: 60_000 })
        const events: Array<RunEvent> = []
        // No baseSettings, no quotas: the run's defaults, as `clapper run` without --quota.
        const run = yield* Effect.fork(
          runPipeline(file, {
            backend: { _tag: "Api", baseUrl: sim.baseUrl, apiKey: "test-key" },
            emit: (e) => Effect.sync(() => void events.push(e))
          })
        )
        // 250 ms of the provider's time per step: far below every timeout of the run (a request's is
        // 60 s), so a request in flight over a few steps of real time is not cut short.
        for (let step = 0; run.unsafePoll() === null && step < 4 * 60 * 10; step++) {
          yield* TestClock.adjust("250 millis")
          yield* letIoHappen
        }
        const summary = yield* Fiber.join(run)
        const stats = yield* sim.stats

        expectCompleted(summary, 3)
        expect(stats.refused).toEqual({})
        expect(eventsOf(events, "job.retrying").filter((e) => e.throttled === true)).toEqual([])
        expect(eventsOf(events, "run.throttled")).toEqual([])
        expect(Object.values(stats.submissions)).toEqual([1, 1, 1])
        expect(eventsOf(events, "run.started")[0]!.generationQuota).toBe("2 per minute")
        // The run paced itself: submits a published spacing apart (30 s and the margin), on the clock both sides share.
        const submits = eventsOf(events, "job.submitting").map((e) => Date.parse(e.at))
        expect(submits).toHaveLength(3)
        expect(submits[1]! - submits[0]!).toBeGreaterThanOrEqual(30_000)
        expect(submits[2]! - submits[1]!).toBeGreaterThanOrEqual(30_000)
        // A minute of the provider's time at least, and not much more.
        expect(summary.elapsedMs).toBeGreaterThanOrEqual(60_000)
        expect(summary.elapsedMs).toBeLessThan(180_000)
      }).pipe(Effect.provide(NodeContext.layer)),
    30_000
  )
})
