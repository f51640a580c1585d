import { describe, expect, it } from "vitest"
import type { RunEvent } from "../../../src/runtime/events.ts"
import { countsOf, displayStateOf, jobsInFlight, jobView, nothingToDo } from "../../../src/cli/progress/displayState.ts"
import { at, captionedRun, overlayEvents, rerun, sampleRun, upToDateRun } from "./fixtures.ts"

/** The events up to and including the first one matching `predicate`. */
const until = (predicate: (event: RunEvent) => boolean): ReadonlyArray<RunEvent> => sampleRun.slice(0, sampleRun.findIndex(predicate) + 1)

describe("the display state reducer", () => {
  it("starts from run.started: totals, estimate, everything queued", () => {
    const state = displayStateOf(until((e) => e.type === "job.queued" && e.job === "renders/e.mp4"))
    expect(state).toMatchObject({
      pipeline: "spring",
      totalJobs: 5,
      renders: 4,
      concurrency: 2,
      estimatedCostUsd: 3.6,
      spentUsd: 0,
      startedAtMs: 0
    })
    expect(countsOf(state)).toEqual({ total: 5, done: 0, failed: 0, detached: 0, inFlight: 0, queued: 5 })
  })

  it("follows each job's step, attempt and progress; a retry records when it resumes", () => {
    const state = displayStateOf(until((e) => e.type === "job.duplicateRisk"))
    expect(jobView(state, "renders/a.mp4")).toMatchObject({
      phase: "rendering",
      attempt: 1,
      videoId: "video_a1",
      progress: null,
      startedAtMs: 1000
    })
    expect(jobView(state, "renders/b.mp4")).toMatchObject({
      phase: "retrying",
      attempt: 1,
      startedAtMs: 1000,
      retry: { step: "submit", attempt: 1, reason: "connection reset", untilMs: 7000 }
    })
    expect(state.possibleDuplicates).toBe(1)
    expect(countsOf(state)).toMatchObject({ inFlight: 2, queued: 3 })
    expect(jobsInFlight(state).map((view) => view.job)).toEqual(["renders/a.mp4", "renders/b.mp4"])

    const later = displayStateOf(until((e) => e.type === "job.progress" && e.job === "renders/b.mp4"))
    expect(jobView(later, "renders/a.mp4")).toMatchObject({ phase: "done" })
    const b = jobView(later, "renders/b.mp4")
    expect(b).toMatchObject({ phase: "rendering", attempt: 2, videoId: "video_b2", progress: 55, status: "PROCESSING", startedAtMs: 1000 })
    expect(b?.retry).toBeUndefined()
    expect(jobView(later, "renders/e.mp4")).toMatchObject({ phase: "done", sharedWith: "renders/a.mp4" })
    expect(jobView(later, "renders/e.mp4")?.startedAtMs).toBeUndefined()
  })

  it("counts the estimate of each accepted submit, as the run does (a lost submit costs nothing known)", () => {
    const state = displayStateOf(until((e) => e.type === "job.submitted" && e.job === "renders/c.mp4"))
    expect(state.spentUsd).toBeCloseTo(2.7)
    const resubmitted = displayStateOf([
      { type: "job.queued", at: at(0), job: "x.mp4", set: "s", estimatedCostUsd: 1.2 },
      { type: "job.submitted", at: at(1), job: "x.mp4", videoId: "v1", attempt: 1 },
      { type: "job.submitted", at: at(9), job: "x.mp4", videoId: "v2", attempt: 2 }
    ])
    expect(resubmitted.spentUsd).toBeCloseTo(2.4)
  })

  it("ends with the right counts, the throttle, the stop reason and the run's own summary", () => {
    const beforeEnd = displayStateOf(sampleRun.slice(0, -1))
    expect(countsOf(beforeEnd)).toEqual({ total: 5, done: 2, failed: 1, detached: 1, inFlight: 0, queued: 1 })
    expect(jobView(beforeEnd, "renders/c.mp4")).toMatchObject({
      phase: "failed",
      failure: { step: "poll", reason: "the provider's render failed: audio unreadable", code: "INVALID_AUDIO" }
    })
    expect(beforeEnd).toMatchObject({ throttledUntilMs: 36_000, stopping: "interrupted (Ctrl-C): no new submits" })

    const end = displayStateOf(sampleRun)
    expect(end.finished).toMatchObject({ atMs: 95_000, summary: { spentUsd: 2.7 } })
    expect(end.spentUsd).toBe(2.7)
  })

  it("follows a job's stage: its speech, its video, then the video's captioning", () => {
    const upTo = (count: number) => jobView(displayStateOf(captionedRun.slice(0, count)), "out/ada.mp4")
    expect(upTo(3)).toMatchObject({ phase: "retrying", stage: "speech", retry: { step: "speech", untilMs: 4000, throttled: false } })
    expect(upTo(4)).toMatchObject({ phase: "submitting", stage: "video", attempt: 1 })
    expect(upTo(6)).toMatchObject({ phase: "rendering", stage: "video", status: "QUEUED" })
    expect(upTo(8)).toMatchObject({ phase: "rendered", stage: "video", videoRendered: true })
    // A submit after the video rendered is its captioning's, before the event says so.
    expect(upTo(9)).toMatchObject({ phase: "submitting", stage: "captions" })
    const captioning = upTo(10)
    expect(captioning).toMatchObject({ phase: "rendering", stage: "captions", videoId: "video_2", progress: null })
    expect(captioning?.status).toBeUndefined()
    expect(upTo(12)).toMatchObject({ phase: "rendering", stage: "captions", progress: 60, status: "PROCESSING" })
    expect(upTo(13)).toMatchObject({ phase: "rendered", stage: "captions" })
    expect(upTo(14)).toMatchObject({ phase: "downloading" })
    expect(upTo(15)).toMatchObject({ phase: "done", resumed: false })
    const overlay = jobView(displayStateOf(overlayEvents), "promo/b.mp4")
    expect(overlay).toMatchObject({ phase: "rendering", stage: "overlay", status: "PROCESSING", resumed: false })
  })

  it("counts a job's estimate once for its render: its captioning, an overlay and an adopted video add nothing", () => {
    // The outreach pipeline showed `spent ~$6.30 of ~$3.15`: the captioning counted as a second render.
    const captioned = displayStateOf(captionedRun)
    expect(captioned.estimatedCostUsd).toBe(3.15)
    expect(captioned.spentUsd).toBeCloseTo(3.15)
    expect(captioned.submittedRenders).toBe(1)
    expect(displayStateOf(overlayEvents).spentUsd).toBe(0)
    // Attempt 0: the video of an earlier run's unanswered submit, found at the provider (paid for then).
    const adopted = displayStateOf([
      { type: "job.queued", at: at(0), job: "x.mp4", set: "s", estimatedCostUsd: 1.2 },
      { type: "job.submitted", at: at(1), job: "x.mp4", videoId: "v1", attempt: 0 }
    ])
    expect(adopted.spentUsd).toBe(0)
    expect(jobView(adopted, "x.mp4")).toMatchObject({ phase: "rendering", resumed: true })
  })

  it("marks the jobs a rerun picks up from the last run (first seen polled or downloaded), once each", () => {
    const state = displayStateOf(rerun.slice(0, -1))
    expect(state.resumedJobs).toBe(2)
    expect(jobView(state, "renders/a.mp4")).toMatchObject({ resumed: true, phase: "rendering", progress: 70 })
    expect(jobView(state, "renders/b.mp4")).toMatchObject({ resumed: true, phase: "done" })
    expect(jobView(state, "renders/c.mp4")).toMatchObject({ resumed: false, phase: "rendering" })
    expect(state.spentUsd).toBeCloseTo(0.9)
    // A fresh run picks nothing up.
    expect(displayStateOf(sampleRun).resumedJobs).toBe(0)
  })

  it("keeps the most the possible duplicates could cost: the estimate of the job of each", () => {
    const state = displayStateOf(sampleRun)
    expect(state.possibleDuplicates).toBe(1)
    expect(state.duplicateCostUsd).toBeCloseTo(0.9)
  })

  it("knows a run with nothing to do, before and after it ends", () => {
    expect(nothingToDo(displayStateOf(upToDateRun.slice(0, 1)))).toBe(true)
    expect(nothingToDo(displayStateOf(upToDateRun))).toBe(true)
    expect(nothingToDo(displayStateOf([]))).toBe(false)
    expect(nothingToDo(displayStateOf(sampleRun.slice(0, 1)))).toBe(false)
    expect(nothingToDo(displayStateOf(sampleRun))).toBe(false)
  })

  it("copes with job events for a job it was never told about", () => {
    const state = displayStateOf([
      { type: "job.progress", at: "2026-01-01T00:00:10Z", job: "x.mp4", videoId: "v", progress: 10, status: "PROCESSING" }
    ])
    expect(countsOf(state)).toMatchObject({ total: 1, inFlight: 1 })
    expect(jobView(state, "x.mp4")).toMatchObject({ phase: "rendering", progress: 10, startedAtMs: Date.parse("2026-01-01T00:00:10Z") })
  })
})
