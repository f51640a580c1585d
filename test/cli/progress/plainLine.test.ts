import { afterAll, beforeAll, describe, expect, it } from "vitest"
import type { RunEvent } from "../../../src/runtime/events.ts"
import { initialPlainState, plainLines, type PlainState } from "../../../src/cli/progress/plainLine.ts"
import { displayStateOf } from "../../../src/cli/progress/displayState.ts"
import { formatSummary, summaryContextOf } from "../../../src/cli/progress/summary.ts"
import { at, captionedRun, oneOfEach, overlayEvents, rerun, sampleRun, summary, upToDateRun } from "./fixtures.ts"

// Lines carry the local time of day; pin the zone so the expected text is fixed.
const zone = process.env["TZ"]
beforeAll(() => {
  process.env["TZ"] = "UTC"
})
afterAll(() => {
  if (zone === undefined) delete process.env["TZ"]
  else process.env["TZ"] = zone
})

const linesOf = (event: RunEvent, state: PlainState = initialPlainState) => plainLines(state, event)[1]

/** After renders/x.mp4 was submitted in this run (so its polls are not a pick-up from the last run). */
const submitted = plainLines(initialPlainState, oneOfEach["job.submitted"])[0]

/** Every line printed for `events`, the throttle state carried along. */
const run = (events: ReadonlyArray<RunEvent>): ReadonlyArray<string> => {
  let state = initialPlainState
  const out: Array<string> = []
  for (const event of events) {
    const [next, lines] = plainLines(state, event)
    state = next
    out.push(...lines)
  }
  return out
}

describe("plain lines", () => {
  it("prints one timestamped line for each meaningful event", () => {
    expect(linesOf(oneOfEach["run.started"])).toEqual(["00:00:00 started spring: 2 jobs, 2 renders, concurrency 4, estimated $1.80"])
    expect(linesOf(oneOfEach["job.submitted"])).toEqual(["00:00:02 submitted renders/x.mp4 (video_abc, attempt 1)"])
    expect(linesOf(oneOfEach["job.progress"], submitted)).toEqual(["00:00:07 rendering renders/x.mp4 30% (video_abc)"])
    expect(linesOf(oneOfEach["job.downloading"], submitted)).toEqual(["00:00:20 downloading renders/x.mp4 (video_abc, resuming at 1.0 MB)"])
    expect(linesOf({ ...oneOfEach["job.downloading"], resumeFrom: 0 }, submitted)).toEqual([
      "00:00:20 downloading renders/x.mp4 (video_abc)"
    ])
    expect(linesOf(oneOfEach["job.completed"])).toEqual(["00:00:21 done renders/y.mp4 (2.4 MB, copied from renders/x.mp4)"])
    expect(linesOf({ type: "job.completed", at: at(21), job: "renders/x.mp4", videoId: "v", output: "renders/x.mp4", bytes: 512 })).toEqual(
      ["00:00:21 done renders/x.mp4 (512 B)"]
    )
    expect(linesOf(oneOfEach["job.retrying"])).toEqual([
      "00:00:03 retrying renders/x.mp4 poll in 2s after attempt 2: HTTP 503 Service Unavailable"
    ])
    expect(linesOf(oneOfEach["job.duplicateRisk"])).toEqual([
      "00:00:03 possible duplicate renders/x.mp4: the submit timed out after it was sent"
    ])
    expect(linesOf(oneOfEach["job.failed"])).toEqual([
      "00:00:09 FAILED renders/x.mp4: render failed (code RENDER_ERROR; at poll; video video_abc)"
    ])
    expect(linesOf({ type: "job.failed", at: at(9), job: "renders/x.mp4", step: "submit", reason: "HTTP 422: audio too long" })).toEqual([
      "00:00:09 FAILED renders/x.mp4: HTTP 422: audio too long (at submit)"
    ])
    expect(linesOf(oneOfEach["job.detached"])).toEqual([
      "00:30:00 detached renders/x.mp4: still rendering at the provider, id video_abc; the next run picks it up"
    ])
    expect(linesOf(oneOfEach["run.throttled"])).toEqual(["00:00:04 rate limited by the provider: pausing requests for 7s"])
    expect(linesOf(oneOfEach["run.stopping"])).toEqual(["00:00:05 stopping: budget reached"])
  })

  it("stays quiet for events the next line says better", () => {
    expect(linesOf(oneOfEach["job.queued"])).toEqual([])
    expect(linesOf(oneOfEach["job.submitting"])).toEqual([])
    expect(linesOf(oneOfEach["job.rendered"])).toEqual([])
    expect(linesOf({ ...oneOfEach["job.progress"], progress: null }, submitted)).toEqual([])
    expect(linesOf({ ...oneOfEach["job.progress"], progress: 100, status: "COMPLETE" }, submitted)).toEqual([])
    // A run with nothing to do: the summary's one line says so.
    expect(linesOf({ ...oneOfEach["run.started"], jobs: 0, renders: 0 })).toEqual([])
  })

  it("ends with the summary block, with the duplicates' cost from the run's events", () => {
    // Not seen: the duplicate's cost is not known.
    expect(linesOf(oneOfEach["run.finished"])).toEqual(formatSummary(summary))
    const lines = run(sampleRun)
    const block = formatSummary(summary, summaryContextOf(displayStateOf(sampleRun)))
    expect(lines.slice(-block.length)).toEqual(block)
    expect(block).toContain("Spent: ~$2.70 (estimated) + up to ~$0.90 more in 1 possible duplicate")
  })

  it("names the step at work: captioning and overlays apart from renders", () => {
    expect(run(captionedRun)).toEqual([
      "00:00:00 started outreach: 1 job, 1 render, concurrency 4, estimated $3.15",
      "00:00:01 retrying out/ada.mp4 speech in 3s after attempt 1: HTTP 503",
      "00:00:06 submitted out/ada.mp4 (video_1, attempt 1)",
      "00:00:20 rendering out/ada.mp4 42% (video_1)",
      "00:00:32 captioning out/ada.mp4 (video_2, attempt 1)",
      "00:00:40 captioning out/ada.mp4 60% (video_2)",
      "00:00:45 downloading out/ada.mp4 (video_2)",
      "00:00:47 done out/ada.mp4 (1.0 MB)"
    ])
    expect(run(overlayEvents).slice(1)).toEqual(["00:00:40 adding overlay to promo/b.mp4 (ov_1, attempt 1)"])
  })

  it("says which jobs a rerun picked up from the last run, and that nothing was to do", () => {
    const lines = run(rerun)
    expect(lines.slice(0, 6)).toEqual([
      "00:00:00 started spring: 3 jobs, 1 render, concurrency 4, estimated $0.90",
      "00:00:01 picked up renders/a.mp4 from the last run (video_a, not sent again)",
      "00:00:01 rendering renders/a.mp4 70% (video_a)",
      "00:00:01 picked up renders/b.mp4 from the last run (video_b, not sent again)",
      "00:00:01 downloading renders/b.mp4 (video_b)",
      "00:00:02 submitted renders/c.mp4 (video_c, attempt 1)"
    ])
    expect(lines).toContain("Resumed: 2 jobs picked up from the last run (not sent again)")
    expect(linesOf({ type: "job.submitted", at: at(3), job: "renders/d.mp4", videoId: "video_d", attempt: 0 })).toEqual([
      "00:00:03 picked up renders/d.mp4 from the last run (video_d, found at the provider)"
    ])
    expect(run(upToDateRun)).toEqual(["Nothing to do: 17 jobs up to date."])
  })

  it("reports progress at most once per job per 25% step, not once per poll", () => {
    const poll = (job: string, progress: number, second: number): RunEvent => ({
      type: "job.progress",
      at: at(second),
      job,
      videoId: `video_${job}`,
      progress,
      status: "PROCESSING"
    })
    const lines = run([
      { type: "job.submitted", at: at(0), job: "a", videoId: "video_a", attempt: 1 },
      { type: "job.submitted", at: at(0), job: "b", videoId: "video_b", attempt: 1 },
      ...[0, 5, 10, 26, 30, 49, 51, 52, 99, 100].map((p, i) => poll("a", p, i)),
      poll("b", 80, 20),
      poll("b", 85, 21)
    ])
    expect(lines).toEqual([
      "00:00:00 submitted a (video_a, attempt 1)",
      "00:00:00 submitted b (video_b, attempt 1)",
      "00:00:03 rendering a 26% (video_a)",
      "00:00:06 rendering a 51% (video_a)",
      "00:00:08 rendering a 99% (video_a)",
      "00:00:20 rendering b 80% (video_b)"
    ])
  })

  it("starts counting again for a new video of the same job", () => {
    const lines = run([
      { type: "job.submitted", at: at(0), job: "a", videoId: "v1", attempt: 1 },
      { type: "job.progress", at: at(1), job: "a", videoId: "v1", progress: 60, status: "PROCESSING" },
      { type: "job.submitted", at: at(2), job: "a", videoId: "v2", attempt: 2 },
      { type: "job.progress", at: at(3), job: "a", videoId: "v2", progress: 30, status: "PROCESSING" },
      { type: "job.progress", at: at(4), job: "a", videoId: "v2", progress: 40, status: "PROCESSING" }
    ])
    expect(lines).toEqual([
      "00:00:00 submitted a (v1, attempt 1)",
      "00:00:01 rendering a 60% (v1)",
      "00:00:02 submitted a (v2, attempt 2)",
      "00:00:03 rendering a 30% (v2)"
    ])
  })
})
