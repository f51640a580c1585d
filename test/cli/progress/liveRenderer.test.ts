import { EventEmitter } from "node:events"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Exit, Scope, TestClock } from "effect"
import stringWidth from "string-width"
import type { RunEvent } from "../../../src/runtime/events.ts"
import { chooseRenderer } from "../../../src/cli/progress/chooseRenderer.ts"
import { displayStateOf } from "../../../src/cli/progress/displayState.ts"
import { formatFrame } from "../../../src/cli/progress/frame.ts"
import { initialPlainState, plainLines } from "../../../src/cli/progress/plainLine.ts"
import { formatSummary, summaryContextOf } from "../../../src/cli/progress/summary.ts"
import { at, rerun, sampleRun, summary, upToDateRun } from "./fixtures.ts"
import { Screen } from "./screen.ts"

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

/** A terminal whose width the test sets, and which says when it changed (as process.stdout does on SIGWINCH). */
const fakeTerminal = (columns: number) => Object.assign(new EventEmitter(), { columns })

const tty = (write: (text: string) => void, columns = 80, terminal = fakeTerminal(columns)) =>
  chooseRenderer({ json: false, isTTY: true, columns, terminal, noColor: true, write, writeErr: () => {} })

/** What the frame lines look like once escape sequences are taken out. */
const visibleLines = (text: string) => text.replace(/\u001B\[[0-9;?]*[A-Za-z]/g, "").split("\n")

const started: RunEvent = {
  type: "run.started",
  at: at(0),
  pipeline: "spring",
  jobs: 5,
  renders: 4,
  concurrency: 2,
  estimatedCostUsd: 3.6,
  minimumDurationMs: 0,
  generationQuota: "2 per minute"
}

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
        yield* renderer.onEvent({
          type: "job.progress",
          at: at(i / 100),
          job: "renders/a.mp4",
          videoId: "video_a1",
          progress: i,
          status: "PROCESSING"
        })
        yield* renderer.onEvent({
          type: "job.progress",
          at: at(i / 100),
          job: "renders/a.mp4",
          videoId: "video_a1",
          progress: i,
          status: "PROCESSING"
        })
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
      yield* renderer.onEvent({
        type: "job.retrying",
        at: at(0),
        job: "renders/b.mp4",
        step: "submit",
        attempt: 1,
        delayMs: 4000,
        reason: "connection reset"
      })
      yield* TestClock.adjust("100 millis")
      expect(out.text()).toContain("renders/b.mp4  retrying submit in 4s  0s")
      yield* TestClock.adjust("2 seconds")
      expect(out.text()).toContain("renders/b.mp4  retrying submit in 2s  2s")
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
      // With what the events told: the possible duplicate's estimate.
      const block = formatSummary(summary, summaryContextOf(displayStateOf(sampleRun)))
      expect(block).toContain("Spent: ~$2.70 (estimated) + up to ~$0.90 more in 1 possible duplicate")
      expect(text.endsWith(`${block.join("\n")}\n`)).toBe(true)
      // The final frame is just above the summary.
      const beforeSummary = text.slice(0, text.length - block.join("\n").length - 1)
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
      const screen = new Screen(40)
      const renderer = yield* tty((text) => {
        out.write(text)
        screen.write(text)
      }, 40)
      yield* renderer.onEvent(started)
      yield* renderer.onEvent({
        type: "job.submitting",
        at: at(0),
        job: "renders/spring-2026/outreach/some-very-long-name.mp4",
        attempt: 1
      })
      yield* renderer.onEvent({ type: "job.submitting", at: at(0), job: "renders/春のキャンペーン/田中さん--こんにちは.mp4", attempt: 1 })
      yield* renderer.onEvent({ type: "job.submitting", at: at(0), job: "renders/🎬-launch/👩‍💻-team--hi.mp4", attempt: 1 })
      yield* TestClock.adjust("100 millis")
      for (const line of visibleLines(out.text())) expect(stringWidth(line)).toBeLessThanOrEqual(40)
      expect(out.text()).toContain("[..........]  0/5 jobs  ETA —\n0 done, 0 failed, 3 in flight, 2 queued\n")
      expect(out.text()).toContain(
        "  …me-very-long-name.mp4  submitting  0s\n  …さん--こんにちは.mp4   submitting  0s\n  …aunch/👩‍💻-team--hi.mp4  submitting  0s"
      )
      // Nothing wraps on the terminal: the frame's rows are its lines.
      expect(screen.text()).toEqual([
        "[..........]  0/5 jobs  ETA —",
        "0 done, 0 failed, 3 in flight, 2 queued",
        "  …me-very-long-name.mp4  submitting  0s",
        "  …さん--こんにちは.mp4   submitting  0s",
        "  …aunch/👩‍💻-team--hi.mp4  submitting  0s"
      ])
    })
  )

  it.scoped("reads the terminal's width on each draw, and redraws at once on a resize, leaving nothing of the old frame", () =>
    Effect.gen(function* () {
      const screen = new Screen(100)
      const terminal = fakeTerminal(100)
      const renderer = yield* tty((text) => screen.write(text), 80, terminal)
      const failed: RunEvent = {
        type: "job.failed",
        at: at(0),
        job: "renders/c.mp4",
        step: "submit",
        reason: "HTTP 422: the audio is too long"
      }
      const events: ReadonlyArray<RunEvent> = [
        started,
        {
          type: "job.submitting",
          at: at(0),
          job: "renders/spring-2026/outreach/very-long-company-name/presenter-alice--hello-world.mp4",
          attempt: 1
        },
        {
          type: "job.submitted",
          at: at(0),
          job: "renders/spring-2026/outreach/very-long-company-name/presenter-alice--hello-world.mp4",
          videoId: "v1",
          attempt: 1
        },
        { type: "job.submitting", at: at(0), job: "renders/spring-2026/outreach/another-company/presenter-bob--hello.mp4", attempt: 1 },
        failed
      ]
      for (const event of events) yield* renderer.onEvent(event)
      yield* TestClock.adjust("100 millis")
      const [failedLine = ""] = plainLines(initialPlainState, failed)[1]
      const frameAt = (columns: number) => formatFrame(displayStateOf(events), { columns, color: false, now: 100 })
      /** The persisted line as the terminal wraps it at `columns`. */
      const wrapped = (columns: number) => (failedLine.match(new RegExp(`.{1,${columns}}`, "g")) ?? []).map((row) => row.trimEnd())
      expect(screen.text()).toEqual([failedLine, ...frameAt(100)])
      expect(frameAt(100).some((line) => line.length > 60)).toBe(true)

      // Narrower: the terminal rewraps the old frame's long lines onto more rows; all of them go.
      terminal.columns = 60
      screen.resize(60)
      yield* Effect.sync(() => terminal.emit("resize"))
      expect(screen.text()).toEqual([...wrapped(60), ...frameAt(60)])

      // Narrower still, with no resize event heard: the next tick reads the width.
      terminal.columns = 45
      screen.resize(45)
      yield* TestClock.adjust("100 millis")
      expect(screen.text()).toEqual([...wrapped(45), ...frameAt(45)])

      // Wider.
      terminal.columns = 120
      screen.resize(120)
      yield* Effect.sync(() => terminal.emit("resize"))
      expect(screen.text()).toEqual([failedLine, ...frameAt(120)])

      // Closed: a resize draws nothing more, and the listener is gone with the scope.
      yield* renderer.close
      const shown = screen.text()
      terminal.columns = 30
      screen.resize(30)
      yield* Effect.sync(() => terminal.emit("resize"))
      expect(screen.text()).toEqual(shown.flatMap((line) => line.match(/.{1,30}/g) ?? [""]))
    })
  )

  it.effect("stops listening for resizes when its scope closes", () =>
    Effect.gen(function* () {
      const terminal = fakeTerminal(80)
      const scope = yield* Scope.make()
      yield* tty(() => {}, 80, terminal).pipe(Scope.extend(scope))
      expect(terminal.listenerCount("resize")).toBe(1)
      yield* Scope.close(scope, Exit.void)
      expect(terminal.listenerCount("resize")).toBe(0)
    })
  )

  it.scoped("an up-to-date rerun leaves one line, never an empty 0/0 bar", () =>
    Effect.gen(function* () {
      const screen = new Screen(80)
      const renderer = yield* tty((text) => screen.write(text))
      const [start, finished] = upToDateRun
      yield* renderer.onEvent(start as RunEvent)
      yield* TestClock.adjust("100 millis")
      expect(screen.text()).toEqual(["spring  nothing to do: every job is up to date"])
      yield* renderer.onEvent(finished as RunEvent)
      expect(screen.text()).toEqual(["Nothing to do: 17 jobs up to date."])
    })
  )

  it.scoped("a rerun says what it picked up, and an interrupted run how to resume", () =>
    Effect.gen(function* () {
      const screen = new Screen(120)
      const renderer = yield* tty((text) => screen.write(text), 120)
      for (const event of rerun) {
        yield* renderer.onEvent(event)
        yield* TestClock.adjust("100 millis")
      }
      const shown = screen.text()
      expect(shown).toContain("picked up 2 jobs from the last run (not sent again)")
      expect(shown).toContain("Interrupted after 9s: 1 done, 0 failed, 2 in flight, 0 skipped, 17 already up to date (20 jobs)")
      expect(shown).toContain("Resumed: 2 jobs picked up from the last run (not sent again)")
      expect(shown.at(-1)).toBe(
        "Run the same command to resume: finished jobs are kept and renders in flight are picked up, not sent again."
      )
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
