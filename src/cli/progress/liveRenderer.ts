/**
 * Stdout is a terminal: a frame redrawn in place (log-update) by a ticker fiber at most every
 * `refresh` (100 ms: ~10 redraws a second), whatever the rate of events. Failures, duplicate
 * risks, detached jobs and the run stopping are also printed above the frame as they happen, so
 * they stay in the scrollback. At the end the final frame stays and the summary block follows
 * (a run with nothing to do leaves only the summary's line).
 *
 * The terminal's width is read on each draw, and a resize redraws at once. A terminal narrowed
 * under a frame reflows its lines onto more rows than log-update drew: those rows are erased
 * before the frame is drawn again, so nothing of the old frame is left behind.
 */
import { Writable } from "node:stream"
import { Clock, Duration, Effect, Fiber, Ref, Runtime, Schedule, type Scope } from "effect"
import { createLogUpdate } from "log-update"
import type { RunEvent } from "../../runtime/events.ts"
import { initialDisplayState, nothingToDo, reduceDisplayState } from "./displayState.ts"
import { formatFrame } from "./frame.ts"
import { initialPlainState, plainLines } from "./plainLine.ts"
import type { ProgressRenderer } from "./ProgressRenderer.ts"
import { formatSummary, summaryContextOf } from "./summary.ts"
import { rowsAt } from "./terminalText.ts"

export interface LiveRendererOptions {
  /** Writes to stdout (the terminal). */
  readonly write: (text: string) => void
  /** The terminal's width now: read on each draw. */
  readonly columns: () => number
  /** Calls `listener` on each resize of the terminal; answers how to stop. */
  readonly onResize?: (listener: () => void) => () => void
  readonly color: boolean
  /** Time between redraws (default 100 ms). */
  readonly refresh?: Duration.DurationInput
  /** Job lines before "… and N more" (default 12). */
  readonly maxJobLines?: number
}

/** Events worth keeping in the scrollback, not only in the (moving) frame. */
const persisted: ReadonlySet<RunEvent["type"]> = new Set(["job.failed", "job.duplicateRisk", "job.detached", "run.stopping", "run.warning"])

/** The terminal as a stream for log-update: everything goes through `write`; its width is the terminal's now. */
const terminalStream = (write: (text: string) => void, columns: () => number): Writable =>
  Object.defineProperties(
    new Writable({
      decodeStrings: false,
      write(chunk: unknown, _encoding, callback) {
        write(String(chunk))
        callback()
      }
    }),
    { columns: { get: columns }, isTTY: { value: true } }
  )

/** Erases `rows` rows, from the cursor's up (as ansi-escapes' eraseLines), leaving the cursor at the start of the top one. */
export const eraseRows = (rows: number): string => {
  let sequence = ""
  for (let i = 0; i < rows; i++) sequence += `\u001B[2K${i < rows - 1 ? "\u001B[1A" : ""}`
  return rows > 0 ? `${sequence}\u001B[G` : ""
}

export const makeLiveRenderer = (options: LiveRendererOptions): Effect.Effect<ProgressRenderer, never, Scope.Scope> =>
  Effect.gen(function* () {
    // showCursor: log-update would otherwise hide the cursor through cli-cursor, whose restore-cursor
    // installs a signal-exit SIGINT handler that re-raises the signal once the Effect runtime's own
    // handler has run: Ctrl-C would kill the process before the run records what is in flight.
    const log = createLogUpdate(terminalStream(options.write, options.columns), { showCursor: true })
    const state = yield* Ref.make(initialDisplayState)
    const closed = yield* Ref.make(false)
    /** The frame on screen (its lines and the width it was drawn at), if one is. */
    let onScreen: { readonly lines: ReadonlyArray<string>; readonly columns: number } | undefined
    const frameOptions = {
      color: options.color,
      ...(options.maxJobLines === undefined ? {} : { maxJobLines: options.maxJobLines })
    }

    /** Forgets the frame on screen: what log-update writes next starts below it. */
    const leaveFrame = () => {
      onScreen = undefined
      log.done()
    }

    const draw = Effect.gen(function* () {
      const current = yield* Ref.get(state)
      if (current.startedAtMs === undefined && current.nextSeq === 0) return // nothing to show yet
      const now = yield* Clock.currentTimeMillis
      const columns = Math.max(1, options.columns())
      const frame = formatFrame(current, { ...frameOptions, columns, now })
      yield* Effect.sync(() => {
        if (onScreen !== undefined && columns < onScreen.columns) {
          // Narrowed: the terminal rewrapped the old frame's lines onto more rows (and the line the
          // cursor is on). log-update would erase only as many rows as it wrote.
          options.write(eraseRows(rowsAt(onScreen.lines, columns) + 1))
          leaveFrame()
        }
        log(frame.join("\n"))
        onScreen = { lines: frame, columns }
      })
    })

    const ticker = yield* draw.pipe(
      Effect.repeat(Schedule.spaced(options.refresh ?? Duration.millis(100))),
      Effect.asVoid,
      Effect.forkScoped
    )

    // A resize redraws at once (not at the next tick), unless the display is closed.
    const runtime = yield* Effect.runtime<never>()
    const redraw = Effect.unlessEffect(draw, Ref.get(closed))
    yield* Effect.acquireRelease(
      Effect.sync(() => options.onResize?.(() => Runtime.runFork(runtime)(redraw))),
      (stop) => Effect.sync(() => stop?.())
    )

    /** Stops the ticker and leaves the final frame (none for a run with nothing to do); true the first time only. */
    const finish = Effect.gen(function* () {
      if (yield* Ref.getAndSet(closed, true)) return false
      yield* Fiber.interrupt(ticker)
      const current = yield* Ref.get(state)
      if (current.finished !== undefined && nothingToDo(current)) {
        // The summary's one line says it all.
        yield* Effect.sync(() => {
          if (onScreen !== undefined) log.clear()
          leaveFrame()
        })
        return true
      }
      yield* draw
      yield* Effect.sync(leaveFrame)
      return true
    })

    const onEvent = (event: RunEvent): Effect.Effect<void> =>
      Effect.gen(function* () {
        if (yield* Ref.get(closed)) return
        const current = yield* Ref.updateAndGet(state, (previous) => reduceDisplayState(previous, event))
        if (event.type === "run.finished") {
          if (yield* finish) {
            const summary = formatSummary(event.summary, summaryContextOf(current))
            yield* Effect.sync(() => options.write(`${summary.join("\n")}\n`))
          }
        } else if (persisted.has(event.type)) {
          const [, lines] = plainLines(initialPlainState, event)
          if (lines.length > 0) {
            yield* Effect.sync(() => {
              log.persist(lines.join("\n"))
              onScreen = undefined
            })
          }
          yield* draw
        }
      })

    const close = Effect.asVoid(finish)
    yield* Effect.addFinalizer(() => close)
    return { onEvent, close }
  })
