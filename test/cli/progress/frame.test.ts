import stringWidth from "string-width"
import { describe, expect, it } from "vitest"
import type { RunEvent } from "../../../src/runtime/events.ts"
import { displayStateOf } from "../../../src/cli/progress/displayState.ts"
import { estimateRemainingMs, formatFrame } from "../../../src/cli/progress/frame.ts"
import { padEnd, rowsAt, truncateEnd, truncateStart, visibleWidth } from "../../../src/cli/progress/terminalText.ts"
import { at, captionedRun, keyRefused, overlayEvents, rerun, sampleRun, upToDateRun } from "./fixtures.ts"

const upTo = (count: number) => displayStateOf(sampleRun.slice(0, count))
const indexOf = (predicate: (event: RunEvent) => boolean) => sampleRun.findIndex(predicate) + 1
const plain = { columns: 80, color: false } as const
const ESC = "\u001B"

/** A run with `n` jobs all rendering, started one second apart. */
const manyInFlight = (n: number, name: (i: number) => string = (i) => `renders/job-${String(i).padStart(2, "0")}.mp4`) =>
  displayStateOf([
    {
      type: "run.started",
      at: at(0),
      pipeline: "big",
      jobs: n + 5,
      renders: n + 5,
      concurrency: n,
      estimatedCostUsd: (n + 5) * 0.9,
      minimumDurationMs: 0,
      generationQuota: "2 per minute"
    },
    ...Array.from({ length: n }, (_, i): RunEvent => ({ type: "job.submitting", at: at(i), job: name(i), attempt: 1 }))
  ])

describe("the live frame", () => {
  it("shows the bar, the counts out of the total, and the spend against the estimate", () => {
    const state = upTo(indexOf((e) => e.type === "job.progress" && e.job === "renders/b.mp4"))
    const [header, counts] = formatFrame(state, { ...plain, now: 33_000 })
    expect(header).toBe("spring  [########............]  2/5 jobs  ETA 42s  elapsed 33s")
    expect(counts).toBe("2 done, 0 failed, 2 in flight, 1 queued  spent ~$2.70 of ~$3.60")
  })

  it("shows failures in the bar and the counts, and detached jobs when there are some", () => {
    const state = upTo(sampleRun.length - 1)
    const [header, counts] = formatFrame(state, { ...plain, now: 95_000 })
    expect(header).toMatch(/^spring {2}\[########!{8}\.{4}\] {2}4\/5 jobs {2}ETA 21s {2}elapsed 1m35s$/)
    expect(counts).toBe("2 done, 1 failed, 1 detached, 0 in flight, 1 queued  spent ~$2.70 of ~$3.60")
  })

  it("shows — for the ETA until a job has finished, then the jobs left, concurrency at a time, at the time a job took", () => {
    const beforeAny = upTo(indexOf((e) => e.type === "job.downloading"))
    expect(estimateRemainingMs(beforeAny, 21_000)).toBeUndefined()
    expect(formatFrame(beforeAny, { ...plain, now: 21_000 })[0]).toContain("ETA —")
    const afterTwo = upTo(indexOf((e) => e.type === "job.completed" && e.job === "renders/e.mp4"))
    // a took 21 s (e only copied it); 3 jobs left, 2 at a time: two rounds of 21 s.
    expect(estimateRemainingMs(afterTwo, 30_000)).toBe(42_000)
    expect(formatFrame(afterTwo, { ...plain, now: 30_000 })[0]).toContain("ETA 42s  elapsed 30s")
    const ended = displayStateOf(sampleRun)
    expect(formatFrame(ended, { ...plain, now: 200_000 })[0]).toBe("spring  [########!!!!!!!!....]  4/5 jobs  interrupted  elapsed 1m35s")
  })

  it("under a quota, the ETA is at least the renders left at the quota's pace, from the start", () => {
    // 100 renders at 2 a minute: 50 minutes at least, whatever the concurrency.
    const start: RunEvent = {
      type: "run.started",
      at: at(0),
      pipeline: "big",
      jobs: 100,
      renders: 100,
      concurrency: 8,
      estimatedCostUsd: 90,
      minimumDurationMs: 50 * 60_000,
      generationQuota: "2 per minute"
    }
    const quota = displayStateOf([start])
    expect(estimateRemainingMs(quota, 1_000)).toBe(50 * 60_000)
    // 10 submitted, one finished after 40 s: 90 renders left at 30 s each, then the last one's 40 s.
    const submitted = Array.from(
      { length: 10 },
      (_, i): RunEvent => ({ type: "job.submitted", at: at(i * 30), job: `r${i}.mp4`, videoId: `v${i}`, attempt: 1 })
    )
    const done: RunEvent = { type: "job.completed", at: at(40), job: "r0.mp4", videoId: "v0", output: "r0.mp4", bytes: 1 }
    const later = displayStateOf([start, ...submitted, done])
    expect(estimateRemainingMs(later, 300_000)).toBe(90 * 30_000 + 40_000)
    expect(formatFrame(later, { ...plain, now: 300_000 })[0]).toContain("ETA 45m40s")
  })

  it("lists each job in flight with its step and elapsed time, in the order they started", () => {
    const retrying = upTo(indexOf((e) => e.type === "job.retrying"))
    expect(formatFrame(retrying, { ...plain, now: 4_200 }).slice(2)).toEqual([
      "  renders/a.mp4  rendering              3s",
      "  renders/b.mp4  retrying submit in 3s  3s"
    ])
    const later = upTo(indexOf((e) => e.type === "job.submitted" && e.job === "renders/c.mp4"))
    expect(formatFrame(later, { ...plain, now: 83_000 }).slice(2)).toEqual([
      "  renders/b.mp4  rendering  1m22s",
      "  renders/c.mp4  rendering  1m01s"
    ])
    const submitting = displayStateOf([{ type: "job.submitting", at: at(0), job: "x.mp4", attempt: 3 }])
    expect(formatFrame(submitting, { ...plain, now: 0 }).at(-1)).toBe("  x.mp4  submitting (attempt 3)  0s")
    const downloading = upTo(indexOf((e) => e.type === "job.downloading"))
    expect(formatFrame(downloading, { ...plain, now: 21_000 })[2]).toBe("  renders/a.mp4  downloading  20s")
  })

  it("names each phase in its own words: speech, queued at the provider, rendering, captioning, overlay", () => {
    const stepAt = (count: number, now: number) => formatFrame(displayStateOf(captionedRun.slice(0, count)), { ...plain, now }).slice(2)
    const step = (count: number, now: number) =>
      stepAt(count, now)[0]
        ?.replace(/^ {2}out\/ada\.mp4 {2}/, "")
        .replace(/ +\d+s$/, "")
    expect(step(3, 2_000)).toBe("retrying speech in 2s")
    expect(step(3, 4_500)).toBe("generating speech")
    expect(step(4, 5_000)).toBe("submitting")
    expect(step(6, 12_000)).toBe("queued at the provider")
    expect(step(7, 21_000)).toBe("rendering 42%")
    expect(step(8, 30_000)).toBe("rendered")
    expect(step(9, 31_000)).toBe("submitting captions")
    expect(step(10, 33_000)).toBe("captioning")
    expect(step(11, 36_000)).toBe("captions queued at the provider")
    expect(step(12, 41_000)).toBe("captioning 60%")
    expect(step(13, 45_000)).toBe("captioned")
    expect(step(14, 45_500)).toBe("downloading")
    expect(stepAt(15, 47_000)).toEqual([])

    const overlay = (count: number) => formatFrame(displayStateOf(overlayEvents.slice(0, count)), { ...plain, now: 51_000 }).at(-1)
    expect(overlay(5)).toBe("  promo/b.mp4  overlay queued at the provider  11s")
    expect(overlay(6)).toBe("  promo/b.mp4  adding overlay  11s")

    const retries = displayStateOf([
      { type: "job.retrying", at: at(0), job: "t.mp4", step: "submit", attempt: 1, delayMs: 5000, reason: "HTTP 429", throttled: true },
      { type: "job.submitted", at: at(0), job: "p.mp4", videoId: "v", attempt: 1 },
      { type: "job.retrying", at: at(1), job: "p.mp4", step: "poll", attempt: 1, delayMs: 2000, reason: "HTTP 503" }
    ])
    expect(formatFrame(retries, { ...plain, now: 1_000 }).slice(2)).toEqual([
      "  t.mp4  rate limited: submit in 4s  1s",
      "  p.mp4  retrying poll in 2s         1s"
    ])
    // Once the wait is over, the step is at work again.
    expect(formatFrame(retries, { ...plain, now: 6_000 }).slice(2)).toEqual(["  t.mp4  submitting  6s", "  p.mp4  rendering   6s"])
  })

  it("counts a captioning in the spend once: the job's estimate covers it", () => {
    const [, counts] = formatFrame(displayStateOf(captionedRun.slice(0, 12)), { ...plain, now: 41_000 })
    expect(counts).toBe("0 done, 0 failed, 1 in flight, 0 queued  spent ~$3.15 of ~$3.15")
  })

  it("says what a rerun picked up from the last run", () => {
    expect(formatFrame(displayStateOf(rerun.slice(0, -1)), { ...plain, now: 7_000 })).toEqual([
      "spring  [#######.............]  1/3 jobs  ETA 5s  elapsed 7s",
      "1 done, 0 failed, 2 in flight, 0 queued  spent ~$0.90 of ~$0.90",
      "picked up 2 jobs from the last run (not sent again)",
      "  renders/a.mp4  rendering 70%  6s",
      "  renders/c.mp4  rendering 10%  6s"
    ])
    expect(formatFrame(displayStateOf(sampleRun), { ...plain, now: 95_000 }).join("\n")).not.toContain("picked up")
  })

  it("says there is nothing to do for an up-to-date rerun, never an empty 0/0 bar", () => {
    expect(formatFrame(displayStateOf(upToDateRun.slice(0, 1)), { ...plain, now: 100 })).toEqual([
      "spring  nothing to do: every job is up to date"
    ])
    expect(formatFrame(displayStateOf(upToDateRun), { ...plain, now: 200 })).toEqual(["spring  nothing to do: 17 jobs up to date"])
    expect(formatFrame(displayStateOf(upToDateRun), { columns: 30, color: true, now: 200 })).toEqual(["nothing to do: 17 jobs up to …"])
  })

  it("says a run stopped at once (the key refused) was stopped, not finished", () => {
    const stopped = displayStateOf([...sampleRun.slice(0, 9), { type: "run.finished", at: at(12), summary: keyRefused }])
    expect(formatFrame(stopped, { ...plain, now: 20_000 })[0]).toBe("spring  [....................]  0/5 jobs  stopped  elapsed 12s")
  })

  it("notes the provider's rate limit while it lasts, and the run stopping", () => {
    const throttled = upTo(indexOf((e) => e.type === "run.throttled"))
    expect(formatFrame(throttled, { ...plain, now: 31_500 })).toContain("rate limited by the provider: requests resume in 5s")
    expect(formatFrame(throttled, { ...plain, now: 36_000 }).join("\n")).not.toContain("rate limited")
    const stopping = upTo(indexOf((e) => e.type === "run.stopping"))
    expect(formatFrame(stopping, { ...plain, now: 50_000 })).toContain("stopping: interrupted (Ctrl-C): no new submits")
  })

  it("shows at most 12 jobs, then how many more are in flight", () => {
    const lines = formatFrame(manyInFlight(15), { ...plain, now: 20_000 })
    const jobLines = lines.filter((line) => line.startsWith("  renders/"))
    expect(jobLines).toHaveLength(12)
    expect(jobLines[0]).toContain("job-00.mp4")
    expect(lines.at(-1)).toBe("  … and 3 more in flight")
    expect(formatFrame(manyInFlight(12), { ...plain, now: 20_000 }).join("\n")).not.toContain("more in flight")
    expect(formatFrame(manyInFlight(15), { ...plain, now: 20_000, maxJobLines: 4 }).at(-1)).toBe("  … and 11 more in flight")
  })

  it("never draws a line wider than the terminal, and keeps the end of long job paths", () => {
    const long = (i: number) => `renders/spring-2026/outreach/very-long-company-name-${i}/presenter-alice--hello-world.mp4`
    for (const color of [false, true]) {
      for (const columns of [30, 50, 80, 120]) {
        const lines = formatFrame(manyInFlight(3, long), { columns, color, now: 5_000 })
        for (const line of lines) expect(visibleWidth(line)).toBeLessThanOrEqual(columns)
      }
    }
    const [first] = formatFrame(manyInFlight(3, long), { columns: 60, color: false, now: 5_000 }).slice(2)
    expect(first).toBe("  …y-name-0/presenter-alice--hello-world.mp4  submitting  5s")
    expect(first).toHaveLength(60)
  })

  it("counts wide characters (CJK, emoji) as two columns: lines fit and job lines stay aligned", () => {
    const names = ["renders/春のキャンペーン/田中さん--こんにちは.mp4", "renders/🎬-launch/👩‍💻-team--hi.mp4", "renders/plain.mp4"]
    const state = displayStateOf([
      {
        type: "run.started",
        at: at(0),
        pipeline: "春のキャンペーン",
        jobs: 5,
        renders: 5,
        concurrency: 3,
        estimatedCostUsd: 4.5,
        minimumDurationMs: 0,
        generationQuota: "2 per minute"
      },
      ...names.map((job, i): RunEvent => ({ type: "job.submitting", at: at(i), job, attempt: 1 }))
    ])
    for (const color of [false, true]) {
      for (const columns of [12, 24, 33, 40, 41, 60, 61, 80, 120]) {
        const lines = formatFrame(state, { columns, color, now: 5_000 })
        // string-width: what the terminal draws, independently of the frame's own measure.
        for (const line of lines) expect(stringWidth(line)).toBeLessThanOrEqual(columns)
        const jobLines = lines.slice(2).map((line) => stringWidth(line))
        expect(new Set(jobLines).size).toBe(1)
      }
    }
    expect(formatFrame(state, { ...plain, now: 5_000 })).toEqual([
      "春のキャンペーン  [....................]  0/5 jobs  ETA —  elapsed 5s",
      "0 done, 0 failed, 3 in flight, 2 queued  spent ~$0.00 of ~$4.50",
      "  renders/春のキャンペーン/田中さん--こんにちは.mp4  submitting  5s",
      "  renders/🎬-launch/👩‍💻-team--hi.mp4                  submitting  4s",
      "  renders/plain.mp4                                  submitting  3s"
    ])
    expect(formatFrame(state, { columns: 40, color: false, now: 5_000 }).slice(2)).toEqual([
      "  …さん--こんにちは.mp4   submitting  5s",
      "  …aunch/👩‍💻-team--hi.mp4  submitting  4s",
      "  renders/plain.mp4       submitting  3s"
    ])
  })

  it("colours only when asked (NO_COLOR gives plain ASCII bars)", () => {
    const state = upTo(sampleRun.length - 1)
    const plainFrame = formatFrame(state, { ...plain, now: 95_000 }).join("\n")
    expect(plainFrame).not.toContain(ESC)
    expect(plainFrame).toMatch(/\[[#!.]+\]/)
    const coloured = formatFrame(state, { columns: 80, color: true, now: 95_000 }).join("\n")
    expect(coloured).toContain(`${ESC}[31m1 failed`)
  })
})

describe("fitting text to the terminal", () => {
  it("cuts the end with an ellipsis, counting columns without colour codes", () => {
    expect(truncateEnd("hello world", 20)).toBe("hello world")
    expect(truncateEnd("hello world", 6)).toBe("hello…")
    expect(visibleWidth(`${ESC}[32mgreen${ESC}[0m`)).toBe(5)
    expect(truncateEnd(`${ESC}[32mgreen grass${ESC}[0m`, 6)).toBe(`${ESC}[32mgreen…${ESC}[0m`)
  })

  it("counts a CJK character or an emoji as two columns, a combining mark as none, and never cuts one in half", () => {
    expect(visibleWidth("日本語テキスト")).toBe(14)
    expect(visibleWidth("🎬 take")).toBe(7)
    expect(visibleWidth("👩‍💻")).toBe(2)
    expect(visibleWidth("cafe\u0301")).toBe(4)
    expect(visibleWidth(`${ESC}[31m日本${ESC}[0m`)).toBe(4)
    // A wide character that would straddle the last column is left out, not drawn half.
    expect(truncateEnd("日本語テキスト", 4)).toBe("日…")
    expect(truncateEnd("日本語テキスト", 5)).toBe("日本…")
    expect(truncateEnd("🎬🎬🎬 take", 6)).toBe("🎬🎬…")
    expect(truncateEnd("👩‍💻👩‍💻👩‍💻", 4)).toBe("👩‍💻…")
    expect(truncateEnd("cafe\u0301 noir", 5)).toBe("cafe\u0301…")
    expect(truncateEnd(`${ESC}[31m日本語${ESC}[0m`, 4)).toBe(`${ESC}[31m日…${ESC}[0m`)
    for (let width = 0; width <= 16; width++) {
      for (const text of ["日本語テキスト", "a日b本c語", "🎬x🎬y👩‍💻z", `${ESC}[2m日本${ESC}[0m語`]) {
        expect(stringWidth(truncateEnd(text, width))).toBeLessThanOrEqual(width)
        expect(stringWidth(truncateStart(text, width))).toBeLessThanOrEqual(width)
      }
    }
    expect(padEnd("日本", 6)).toBe("日本  ")
  })

  it("cuts the start of a path", () => {
    expect(truncateStart("renders/a/b/c.mp4", 8)).toBe("…b/c.mp4")
    expect(truncateStart("c.mp4", 8)).toBe("c.mp4")
    expect(truncateStart("renders/日本語.mp4", 8)).toBe("…語.mp4")
    expect(truncateStart("renders/日本語.mp4", 9)).toBe("…本語.mp4")
  })

  it("knows the rows lines take once a narrower terminal wraps them", () => {
    expect(rowsAt(["x".repeat(80), "", "y".repeat(30)], 80)).toBe(3)
    expect(rowsAt(["x".repeat(80), "", "y".repeat(30)], 40)).toBe(4)
    expect(rowsAt(["日".repeat(30)], 40)).toBe(2)
  })
})
