/**
 * Property: whatever goes wrong, step after step (the API answering 5xx, submits whose connection
 * drops after the video was made, downloads cut short, renders that end FAILED
 * rate_limit_exceeded, the real binary killed with SIGKILL at some event), a clean final run
 * completes every job, every output is a valid MP4, and for every render the provider received
 * at most one submission plus the possible duplicates the journal admits (plus one per render the
 * provider itself failed, which is a legitimate resubmission).
 *
 * The faults come from a real HTTP proxy in front of one simulator that outlives all the runs of
 * a case, as the provider would: the simulator's own fault rates are fixed for its lifetime, and
 * the final run must find the provider healthy with every video made so far. A render the proxy
 * said FAILED stays FAILED (as at the provider), in the final run too.
 */
import fc from "fast-check"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import {
  answer,
  cutBody,
  drop,
  forward,
  htmlPage,
  isFileRequest,
  isListRequest,
  isStatusRequest,
  isSubmitRequest,
  replace,
  type Rule
} from "../support/faultProxy.ts"
import { admittedDuplicates, behindFaultProxy, expectNoCrash, expectOutputsAreMp4, journal, rendersOf, temporaryFiles } from "./support.ts"

interface Step {
  readonly errorRate: number
  readonly resetRate: number
  readonly truncateRate: number
  readonly failRate: number
  /** SIGKILL the binary at the `nth` event of this type (none: the run ends by itself). */
  readonly kill: { readonly at: string; readonly nth: number } | undefined
}

const step: fc.Arbitrary<Step> = fc.record({
  errorRate: fc.constantFrom(0, 0.15, 0.3),
  resetRate: fc.constantFrom(0, 0.3, 0.7),
  truncateRate: fc.constantFrom(0, 0.3, 0.7),
  failRate: fc.constantFrom(0, 0.3, 0.6),
  kill: fc.option(
    fc.record({
      at: fc.constantFrom("job.submitting", "job.submitted", "job.retrying", "job.progress", "job.downloading", "job.completed"),
      nth: fc.integer({ min: 1, max: 3 })
    }),
    { nil: undefined }
  )
})

/** A small seeded generator (mulberry32): the same case gives the same faults in request order. */
const seeded = (seed: number) => {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

type VideoJson = { id?: unknown; status?: unknown }
const asFailed = (video: VideoJson) => ({
  ...video,
  status: "FAILED",
  completed_at: null,
  error: { code: "rate_limit_exceeded", message: "Rate limit exceeded." }
})

/** The faults of one step; `failed` (videos the "provider" ended FAILED) is kept across steps. */
const faultsOf =
  (s: Step, random: () => number, failed: Set<string>, decided: Set<string>): Rule =>
  (r) => {
    if (r.origin === "api" && random() < s.errorRate) return answer(500 + Math.floor(random() * 4), htmlPage)
    if (isSubmitRequest(r) && random() < s.resetRate) return drop
    if (isFileRequest(r) && random() < s.truncateRate) {
      const at = random()
      return cutBody((n) => 1 + at * (n - 2))
    }
    if (isStatusRequest(r)) {
      const id = r.path.split("/").pop() ?? ""
      if (!decided.has(id)) {
        decided.add(id)
        if (random() < s.failRate) failed.add(id)
      }
    }
    return stickyFailures(failed)(r)
  }

/** What the provider says of the videos it failed, in every answer about them (status and list). */
const stickyFailures =
  (failed: ReadonlySet<string>): Rule =>
  (r) => {
    if (failed.size === 0) return forward
    const rewrite = (json: string) => {
      try {
        const parsed = JSON.parse(json) as unknown
        const fix = (v: VideoJson) => (typeof v.id === "string" && failed.has(v.id) ? asFailed(v) : v)
        if (Array.isArray(parsed)) return JSON.stringify(parsed.map((v) => fix(v as VideoJson)))
        if (parsed !== null && typeof parsed === "object" && Array.isArray((parsed as { data?: unknown }).data)) {
          const page = parsed as { data: Array<VideoJson> }
          return JSON.stringify({ ...page, data: page.data.map(fix) })
        }
        return JSON.stringify(fix(parsed as VideoJson))
      } catch {
        return json
      }
    }
    if (isStatusRequest(r) && failed.has(r.path.split("/").pop() ?? "")) return replace(rewrite, { contentType: "application/json" })
    if (isListRequest(r)) return replace(rewrite, { contentType: "application/json" })
    return forward
  }

const outputs = ["out/v0.mp4", "out/v1.mp4", "out/v2.mp4"]

const checkCase = async (seed: number, steps: ReadonlyArray<Step>) => {
  const { c, sim, proxy, run } = await behindFaultProxy(outputs, {
    policy: { concurrency: 2, attempts: 3, initialDelay: "5ms", maxDelay: "30ms", interval: "15ms", maxInterval: "60ms" },
    sim: { renderFactor: 0.2 }
  })
  try {
    const random = seeded(seed)
    const failed = new Set<string>()
    const decided = new Set<string>()
    for (const s of steps) {
      proxy.rule = faultsOf(s, random, failed, decided)
      const logged = proxy.log.length
      let seen = 0
      const stepRun = await run({
        onEvent: (event, signal) => {
          if (s.kill && event.type === s.kill.at && ++seen === s.kill.nth) signal("SIGKILL")
        }
      })
      if (process.env["DEBUG_FAILURES"]) {
        const faults = proxy.log
          .slice(logged)
          .filter((l) => l.decision !== "Forward")
          .map((l) => l.decision)
        console.log(
          JSON.stringify(s),
          "→",
          stepRun.code ?? stepRun.signal,
          JSON.stringify(faults.reduce<Record<string, number>>((m, f) => ({ ...m, [f]: (m[f] ?? 0) + 1 }), {})),
          "failed:",
          stepRun.summary?.failed.map((f) => f.step)
        )
      }
      expectNoCrash(stepRun)
      // Killed, or ended by itself with some jobs failed: never invalid input, never a crash.
      expect([0, 1, null], stepRun.stderr).toContain(stepRun.code)
    }
    proxy.rule = stickyFailures(failed)
    const final = await run()
    expectNoCrash(final)
    expect(final.code, `${final.stderr}\n${JSON.stringify(final.summary?.failed)}`).toBe(0)

    expectOutputsAreMp4(c)
    expect(temporaryFiles(join(c.root, "out"))).toEqual([])
    // The witness: submissions per render, against what the journal admits and what the provider failed.
    const stats = await sim.stats()
    const entries = journal(c)
    for (const job of rendersOf(c)) {
      const videos = new Set(
        entries.filter((e) => (e.t === "submitted" || e.t === "adopted") && e.job === job.id && e.videoId).map((e) => e.videoId)
      )
      const failedRenders = [...videos].filter((id) => id !== undefined && failed.has(id)).length
      const admitted = admittedDuplicates(entries, job.id)
      const submissions = stats.submissions[job.key] ?? 0
      expect(
        submissions,
        `${job.id}: ${submissions} submissions, ${admitted} admitted duplicates, ${failedRenders} failed renders`
      ).toBeLessThanOrEqual(1 + admitted + failedRenders)
      expect(submissions, job.id).toBeGreaterThanOrEqual(1)
    }
  } finally {
    // Closed now, not after the test: the property runs several cases in one test.
    await proxy.close()
    await sim.close()
  }
}

describe("property: any sequence of failing steps, then a clean run", () => {
  it("completes every job with valid outputs, paying each render once (+ admitted duplicates, + renders the provider failed)", async () => {
    await fc.assert(fc.asyncProperty(fc.integer({ min: 1, max: 2 ** 31 - 1 }), fc.array(step, { minLength: 1, maxLength: 3 }), checkCase), {
      numRuns: Number(process.env["CLAPPER_PROPERTY_RUNS"] ?? 4),
      endOnFailure: true
    })
  }, 120_000)
})
