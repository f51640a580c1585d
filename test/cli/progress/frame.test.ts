import { describe, expect, it } from "vitest"
import type { RunEvent } from "../../../src/runtime/events.ts"
import { displayStateOf } from "../../../src/cli/progress/displayState.ts"
import { estimateRemainingMs, formatFrame } from "../../../src/cli/progress/frame.ts"
import { truncateEnd, truncateStart, visibleWidth } from "../../../src/cli/progress/terminalText.ts"
import { at, sampleRun } from "./fixtures.ts"

const upTo = (count: number) => displayStateOf(sampleRun.slice(0, count))
const indexOf = (predicate: (event: RunEvent) => boolean) => sampleRun.findIndex(predicate) + 1
const plain = { columns: 80, color: false } as const
const ESC = "\u001B"

/** A run with `n` jobs all rendering, started one second apart. */
const manyInFlight = (n: number, name: (i: number) => string = (i) => `renders/job-${String(i).padStart(2, "0")}.mp4`) =>
  displayStateOf([
    { type: "run.started", at: at(0), pipeline: "big", jobs: n + 5, renders: n + 5, concurrency: n, estimatedCostUsd: (n + 5) * 0.9, minimumDurationMs: 0, generationQuota: "2 per minute" },
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
    const start: RunEvent = { type: "run.started", at: at(0), pipeline: "big", jobs: 100, renders: 100, concurrency: 8, estimatedCostUsd: 90, minimumDurationMs: 50 * 60_000, generationQuota: "2 per minute" }
    const quota = displayStateOf([start])
    expect(estimateRemainingMs(quota, 1_000)).toBe(50 * 60_000)
    // 10 submitted, one finished after 40 s: 90 renders left at 30 s each, then the last one's 40 s.
    const submitted = Array.from({ length: 10 }, (_, i): RunEvent => ({ type: "job.submitted", at: at(i * 30), job: `r${i}.mp4`, videoId: `v${i}`, attempt: 1 }))
    const done: RunEvent = { type: "job.completed", at: at(40), job: "r0.mp4", videoId: "v0", output: "r0.mp4", bytes: 1 }
    const later = displayStateOf([start, ...submitted, done])
    expect(estimateRemainingMs(later, 300_000)).toBe(90 * 30_000 + 40_000)
    expect(formatFrame(later, { ...plain, now: 300_000 })[0]).toContain("ETA 45m40s")
  })

  it("lists each job in flight with its step and elapsed time, in the order they started", () => {
    const retrying = upTo(indexOf((e) => e.type === "job.retrying"))
    expect(formatFrame(retrying, { ...plain, now: 4_200 }).slice(2)).toEqual([
      "  renders/a.mp4  rendering       3s",
      "  renders/b.mp4  retrying in 3s  3s"
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
    expect(truncateEnd("日本語テキスト", 4)).toBe("日本語…")
  })

  it("cuts the start of a path", () => {
    expect(truncateStart("renders/a/b/c.mp4", 8)).toBe("…b/c.mp4")
    expect(truncateStart("c.mp4", 8)).toBe("c.mp4")
  })
})
