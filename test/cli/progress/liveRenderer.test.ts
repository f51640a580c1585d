import { describe, expect, it } from "@effect/vitest"
import { Effect, Exit, Scope, TestClock } from "effect"
import type { RunEvent } from "../../../src/runtime/events.ts"
import { chooseRenderer } from "../../../src/cli/progress/chooseRenderer.ts"
import { formatSummary } from "../../../src/cli/progress/summary.ts"
import { at, sampleRun, summary } from "./fixtures.ts"

/** Collects what a renderer writes to stdout. */
const terminal = () => {
  const writes: Array<string> = []
  return {
    writes,
    write: (text: string) => {
      writes.push(text)
    },
    text: () => writes.join("")
  }
}

const tty = (write: (text: string) => void, columns = 80) =>
  chooseRenderer({ json: false, isTTY: true, columns, noColor: true, write, writeErr: () => {} })

const started: RunEvent = { type: "run.started", at: at(0), pipeline: "spring", jobs: 5, renders: 4, concurrency: 2, estimatedCostUsd: 3.6, minimumDurationMs: 0, generationQuota: "2 per minute" }

describe("the live display", () => {
  it.scoped("draws the frame from a ticker, at most ~10 times a second however many events arrive", () =>
    Effect.gen(function* () {
      const out = terminal()
      const renderer = yield* tty(out.write)
      yield* renderer.onEvent(started)
      yield* renderer.onEvent({ type: "job.submitting", at: at(0), job: "renders/a.mp4", attempt: 1 })
      yield* renderer.onEvent({ type: "job.submitted", at: at(0), job: "renders/a.mp4", videoId: "video_a1", attempt: 1 })
      expect(out.writes).toEqual([])

      // Two events every 10 ms for a second: 200 events.
      for (let i = 1; i <= 100; i++) {
        yield* renderer.onEvent({ type: "job.progress", at: at(i / 100), job: "renders/a.mp4", videoId: "video_a1", progress: i, status: "PROCESSING" })
        yield* renderer.onEvent({ type: "job.progress", at: at(i / 100), job: "renders/a.mp4", videoId: "video_a1", progress: i, status: "PROCESSING" })
        yield* TestClock.adjust("10 millis")
      }
      expect(out.writes.length).toBeGreaterThanOrEqual(5)
      expect(out.writes.length).toBeLessThanOrEqual(11)
      const text = out.text()
      expect(text).toContain("spring  [....................]  0/5 jobs  ETA —  elapsed 0s")
      expect(text).toContain("0 done, 0 failed, 1 in flight, 4 queued  spent ~$0.00 of ~$3.60")
      expect(text).toContain("renders/a.mp4  rendering 90%")
    })
  )

  it.scoped("counts a retry down as the clock moves, with nothing new from the run", () =>
    Effect.gen(function* () {
      const out = terminal()
      const renderer = yield* tty(out.write)
      yield* renderer.onEvent(started)
      yield* renderer.onEvent({ type: "job.submitting", at: at(0), job: "renders/b.mp4", attempt: 1 })
      yield* renderer.onEvent({ type: "job.retrying", at: at(0), job: "renders/b.mp4", step: "submit", attempt: 1, delayMs: 4000, reason: "connection reset" })
      yield* TestClock.adjust("100 millis")
      expect(out.text()).toContain("renders/b.mp4  retrying in 4s  0s")
      yield* TestClock.adjust("2 seconds")
      expect(out.text()).toContain("renders/b.mp4  retrying in 2s  2s")
    })
  )

  it.scoped("keeps failures in the scrollback, then leaves the final frame and prints the summary", () =>
    Effect.gen(function* () {
      const out = terminal()
      const renderer = yield* tty(out.write)
      for (const event of sampleRun.slice(0, -1)) {
        yield* renderer.onEvent(event)
        yield* TestClock.adjust("200 millis")
      }
      // Printed above the frame (log-update wraps them at the terminal's width, as the terminal would).
      expect(out.text()).toMatch(/\d\d:\d\d:\d\d FAILED renders\/c\.mp4: the provider's render failed/)
      expect(out.text()).toMatch(/\d\d:\d\d:\d\d detached renders\/b\.mp4: still rendering at the provider, id video_b2/)

      yield* renderer.onEvent(sampleRun.at(-1) as RunEvent)
      const text = out.text()
      expect(text.endsWith(`${formatSummary(summary).join("\n")}\n`)).toBe(true)
      // The final frame is just above the summary.
      const beforeSummary = text.slice(0, text.length - formatSummary(summary).join("\n").length - 1)
      expect(beforeSummary).toContain("2 done, 1 failed, 1 detached, 0 in flight, 1 queued  spent ~$2.70 of ~$3.60")

      // Closed: nothing more, whatever happens.
      const count = out.writes.length
      yield* renderer.close
      yield* renderer.onEvent(started)
      yield* TestClock.adjust("5 seconds")
      expect(out.writes.length).toBe(count)
    })
  )

  it.effect("stops redrawing when its scope closes (Ctrl-C), leaving the last frame", () =>
    Effect.gen(function* () {
      const out = terminal()
      const scope = yield* Scope.make()
      const renderer = yield* tty(out.write).pipe(Scope.extend(scope))
      yield* renderer.onEvent(started)
      yield* renderer.onEvent({ type: "job.submitting", at: at(0), job: "renders/a.mp4", attempt: 1 })
      yield* TestClock.adjust("1 second")
      expect(out.text()).toContain("renders/a.mp4  submitting")
      yield* Scope.close(scope, Exit.void)
      const count = out.writes.length
      yield* TestClock.adjust("10 seconds")
      yield* renderer.onEvent({ type: "job.submitted", at: at(11), job: "renders/a.mp4", videoId: "v", attempt: 1 })
      yield* renderer.close
      expect(out.writes.length).toBe(count)
      // The frame was not erased.
      expect(out.writes.at(-1)).not.toMatch(/\u001B\[2K$/)
    })
  )

  it.scoped("fits every frame line to the terminal's width", () =>
    Effect.gen(function* () {
      const out = terminal()
      const renderer = yield* tty(out.write, 40)
      yield* renderer.onEvent(started)
      yield* renderer.onEvent({ type: "job.submitting", at: at(0), job: "renders/spring-2026/outreach/some-very-long-name.mp4", attempt: 1 })
      yield* TestClock.adjust("100 millis")
      const lines = out.text().replace(/\u001B\[[0-9;?]*[A-Za-z]/g, "").split("\n")
      for (const line of lines) expect(Array.from(line).length).toBeLessThanOrEqual(40)
      expect(out.text()).toContain("[..........]  0/5 jobs  ETA —\n0 done, 0 failed, 1 in flight, 4 queued\n")
      expect(out.text()).toContain("  …me-very-long-name.mp4  submitting  0s")
    })
  )
})

describe("choosing a renderer", () => {
  it.scoped("--json gives NDJSON, even on a terminal", () =>
    Effect.gen(function* () {
      const out = terminal()
      const renderer = yield* chooseRenderer({ json: true, isTTY: true, write: out.write })
      yield* renderer.onEvent(started)
      yield* TestClock.adjust("1 second")
      expect(out.writes).toEqual([`${JSON.stringify(started)}\n`])
    })
  )

  it.scoped("a pipe gets plain lines", () =>
    Effect.gen(function* () {
      const out = terminal()
      const renderer = yield* chooseRenderer({ json: false, isTTY: false, write: out.write })
      yield* renderer.onEvent({ type: "run.stopping", at: at(0), reason: "budget reached" })
      yield* renderer.onEvent(sampleRun.at(-1) as RunEvent)
      expect(out.text()).toMatch(/^\d\d:\d\d:\d\d stopping: budget reached\nInterrupted after 1m35s/)
      yield* renderer.close
      yield* renderer.onEvent(started)
      expect(out.text()).not.toContain("started spring")
    })
  )
})
