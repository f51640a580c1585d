/**
 * A run's events → the report's timeline: from a real run (the binary against the simulator),
 * and as a property over event sequences of any shape a run can produce.
 */
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import type { RunEvent } from "../../src/runtime/events.ts"
import { runTimeline, type SegmentKind } from "../../src/report/runTimeline.ts"
import { roomyQuotas } from "../support/testQuotas.ts"
import { oneFailure, runAgainst, smallCampaign, startSim } from "./support.ts"

describe("the timeline of a real run", () => {
  it("has one row per job, its steps in order, and the failure where it happened", async () => {
    const sim = await startSim({ ...oneFailure, ffmpeg: false })
    const campaign = smallCampaign()
    const { result, events } = await runAgainst(sim, campaign)
    expect(result.code, result.stderr).toBe(1)
    const timeline = runTimeline(events)
    expect(timeline.rows.map((r) => r.job)).toEqual(campaign.jobs)
    expect(timeline.summary?.failed.map((f) => f.job)).toEqual(["renders/campaign/bob--thanks.mp4"])
    for (const row of timeline.rows) {
      const kinds = row.segments.map((s) => s.kind)
      expect(kinds).toContain("submit")
      expect(kinds).toContain("rendering")
      if (row.outcome === "completed") expect(kinds.at(-1)).toBe("download")
      for (const s of row.segments) {
        expect(s.startMs).toBeGreaterThanOrEqual(timeline.startMs)
        expect(s.endMs).toBeLessThanOrEqual(timeline.endMs)
      }
    }
    const failed = timeline.rows.find((r) => r.outcome === "failed")
    expect(failed?.marks).toEqual([expect.objectContaining({ kind: "failed", detail: expect.stringContaining("generation_failed") })])
    // One job at a time: each starts its upload after the one before finished.
    const submits = timeline.rows.map((r) => r.segments.find((s) => s.kind === "submit")!.startMs)
    expect([...submits].sort((a, b) => a - b)).toEqual(submits)
  }, 60_000)

  it("shows the provider's quota: the run throttled, the jobs' waits hatched, none counted as a retry", async () => {
    // The simulator allows one generation a second; the run is told it may send far more, four at once.
    const sim = await startSim({ ffmpeg: false, quotas: { ...roomyQuotas, generation: { count: 1, perMs: 1000 } } })
    const campaign = smallCampaign()
    const { result, events } = await runAgainst(sim, campaign, "--concurrency", "4")
    expect(result.code, result.stderr).toBe(0)
    const timeline = runTimeline(events)
    expect(timeline.throttled.length).toBeGreaterThan(0)
    expect(timeline.throttledMs).toBeGreaterThan(0)
    expect(timeline.quotaWaits.count).toBeGreaterThan(0)
    expect(timeline.retries).toBe(0)
    const waits = timeline.rows.flatMap((r) => r.segments.filter((s) => s.kind === "quota"))
    expect(waits.length).toBe(timeline.quotaWaits.count)
    expect(waits.every((s) => s.detail.includes("quota"))).toBe(true)
  }, 60_000)
})

// A property over generated runs -------------------------------------------------------------

type Step = "queued" | "submitting" | "submitted" | "queuedStatus" | "processing" | "rendered" | "retry" | "quota" | "downloading"
type End = "completed" | "failed" | "detached" | "none"

const jobPath = fc.record({
  steps: fc.array(
    fc.constantFrom<Step>("submitting", "submitted", "queuedStatus", "processing", "rendered", "retry", "quota", "downloading"),
    {
      maxLength: 12
    }
  ),
  end: fc.constantFrom<End>("completed", "failed", "detached", "none"),
  gaps: fc.array(fc.integer({ min: 0, max: 5_000 }), { minLength: 14, maxLength: 14 })
})

/** Jobs' paths interleaved by `order`, at increasing times. */
type JobPath = typeof jobPath extends fc.Arbitrary<infer A> ? A : never

const eventsOf = (paths: ReadonlyArray<JobPath>, order: ReadonlyArray<number>): ReadonlyArray<RunEvent> => {
  const t0 = Date.parse("2026-01-01T00:00:00Z")
  let now = t0
  const iso = () => new Date(now).toISOString()
  const queues = paths.map((p, j) => {
    const job = `renders/j${j}.mp4`
    const videoId = `video_${j}`
    const list: Array<(gap: number) => RunEvent | undefined> = [
      () => ({ type: "job.queued", job, at: iso(), set: "s", estimatedCostUsd: 0.9 }),
      ...p.steps.map((step: Step) => (): RunEvent => {
        switch (step) {
          case "submitting":
            return { type: "job.submitting", job, at: iso(), attempt: 1 }
          case "submitted":
            return { type: "job.submitted", job, at: iso(), videoId, attempt: 1, step: "submit" }
          case "queuedStatus":
            return { type: "job.progress", job, at: iso(), videoId, progress: null, status: "QUEUED" }
          case "processing":
            return { type: "job.progress", job, at: iso(), videoId, progress: 40, status: "PROCESSING" }
          case "rendered":
            return { type: "job.rendered", job, at: iso(), videoId }
          case "retry":
            return { type: "job.retrying", job, at: iso(), step: "poll", attempt: 1, delayMs: 700, reason: "HTTP 503" }
          case "quota":
            return { type: "job.retrying", job, at: iso(), step: "submit", attempt: 1, delayMs: 900, reason: "429", throttled: true }
          case "downloading":
            return { type: "job.downloading", job, at: iso(), videoId, resumeFrom: 0 }
          case "queued":
            return { type: "job.queued", job, at: iso(), set: "s", estimatedCostUsd: 0.9 }
        }
      }),
      () =>
        p.end === "completed"
          ? { type: "job.completed", job, at: iso(), videoId, output: job, bytes: 10 }
          : p.end === "failed"
            ? { type: "job.failed", job, at: iso(), step: "poll", reason: "gone", code: "generation_failed" }
            : p.end === "detached"
              ? { type: "job.detached", job, at: iso(), videoId }
              : undefined
    ]
    return { list, gaps: p.gaps, next: 0 }
  })
  const events: Array<RunEvent> = [
    {
      type: "run.started",
      at: iso(),
      pipeline: "p",
      jobs: paths.length,
      renders: paths.length,
      concurrency: 2,
      estimatedCostUsd: 1,
      minimumDurationMs: 0,
      generationQuota: "2 per minute"
    }
  ]
  for (const j of [...order, ...paths.flatMap((p, j) => Array.from({ length: p.steps.length + 2 }, () => j))]) {
    const q = queues[j % queues.length]!
    const make = q.list[q.next]
    if (make === undefined) continue
    now += q.gaps[q.next % q.gaps.length]!
    q.next++
    const event = make(0)
    if (event) events.push(event)
  }
  now += 10
  return [...events, { type: "run.warning", at: iso(), message: "the end" }]
}

/** No speech, overlays or captions job in these runs... but a submit after a render is its captioning. */
const kindsDrawn: ReadonlyArray<SegmentKind> = ["waiting", "submit", "queued", "rendering", "captions", "download", "retry", "quota"]

describe("the timeline of any run", () => {
  it("draws each job once, its spans within the run, in time order and never overlapping", () => {
    fc.assert(
      fc.property(fc.array(jobPath, { minLength: 1, maxLength: 6 }), fc.array(fc.nat(20), { maxLength: 60 }), (paths, order) => {
        const events = eventsOf(paths, order)
        const timeline = runTimeline(events)
        const firstSeen = [...new Set(events.flatMap((e) => ("job" in e ? [e.job] : [])))]
        expect(timeline.rows.map((r) => r.job)).toEqual(firstSeen)
        for (const row of timeline.rows) {
          let last = timeline.startMs
          for (const s of row.segments) {
            expect(kindsDrawn).toContain(s.kind)
            expect(s.startMs).toBeGreaterThanOrEqual(last)
            expect(s.endMs).toBeGreaterThanOrEqual(s.startMs)
            expect(s.endMs).toBeLessThanOrEqual(timeline.endMs)
            last = s.endMs
          }
          const j = Number(/j(\d+)/.exec(row.job)![1])
          const ended = events.some(
            (e) => "job" in e && e.job === row.job && (e.type === "job.completed" || e.type === "job.failed" || e.type === "job.detached")
          )
          if (ended) expect(row.outcome).toBe(paths[j]!.end)
          else expect(row.outcome).toBe("open")
        }
        const quota = events.filter((e) => e.type === "job.retrying" && e.throttled === true)
        expect(timeline.quotaWaits.count).toBe(quota.length)
      }),
      { numRuns: 300 }
    )
  })
})
