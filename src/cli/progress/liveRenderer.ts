/**
 * Stdout is a terminal: a frame redrawn in place (log-update) by a ticker fiber at most every
 * `refresh` (100 ms: ~10 redraws a second), whatever the rate of events. Failures, duplicate
 * risks, detached jobs and the run stopping are also printed above the frame as they happen, so
 * they stay in the scrollback. At the end the final frame stays and the summary block follows.
 */
import { Writable } from "node:stream"
import { Clock, Duration, Effect, Fiber, Ref, Schedule, type Scope } from "effect"
import { createLogUpdate } from "log-update"
import type { RunEvent } from "../../runtime/events.ts"
import { initialDisplayState, reduceDisplayState } from "./displayState.ts"
import { formatFrame } from "./frame.ts"
import { initialPlainState, plainLines } from "./plainLine.ts"
import type { ProgressRenderer } from "./ProgressRenderer.ts"
import { formatSummary } from "./summary.ts"

export interface LiveRendererOptions {
  /** Writes to stdout (the terminal). */
  readonly write: (text: string) => void
  readonly columns: number
  readonly color: boolean
  /** Time between redraws (default 100 ms). */
  readonly refresh?: Duration.DurationInput
  /** Job lines before "… and N more" (default 12). */
  readonly maxJobLines?: number
}

/** Events worth keeping in the scrollback, not only in the (moving) frame. */
const persisted: ReadonlySet<RunEvent["type"]> = new Set(["job.failed", "job.duplicateRisk", "job.detached", "run.stopping", "run.warning"])

/** The terminal as a stream for log-update: everything goes through `write`. */
const terminalStream = (write: (text: string) => void, columns: number): Writable =>
  Object.assign(
    new Writable({
      decodeStrings: false,
      write(chunk: unknown, _encoding, callback) {
        write(String(chunk))
        callback()
      }
    }),
    { columns, isTTY: true }
  )

export const makeLiveRenderer = (options: LiveRendererOptions): Effect.Effect<ProgressRenderer, never, Scope.Scope> =>
  Effect.gen(function* () {
    // showCursor: log-update would otherwise hide the cursor through cli-cursor, whose restore-cursor
    // installs a signal-exit SIGINT handler that re-raises the signal once the Effect runtime's own
    // handler has run: Ctrl-C would kill the process before the run records what is in flight.
    const log = createLogUpdate(terminalStream(options.write, options.columns), {
      defaultWidth: options.columns,
      showCursor: true
    })
    const state = yield* Ref.make(initialDisplayState)
    const closed = yield* Ref.make(false)
    const frameOptions = {
      columns: options.columns,
      color: options.color,
      ...(options.maxJobLines === undefined ? {} : { maxJobLines: options.maxJobLines })
    }

    const draw = Effect.gen(function* () {
      const current = yield* Ref.get(state)
      if (current.startedAtMs === undefined && current.nextSeq === 0) return // nothing to show yet
      const now = yield* Clock.currentTimeMillis
      const frame = formatFrame(current, { ...frameOptions, now })
      yield* Effect.sync(() => log(frame.join("\n")))
    })

    const ticker = yield* draw.pipe(
      Effect.repeat(Schedule.spaced(options.refresh ?? Duration.millis(100))),
      Effect.asVoid,
      Effect.forkScoped
    )

    /** Stops the ticker and leaves the final frame; true the first time only. */
    const finish = Effect.gen(function* () {
      if (yield* Ref.getAndSet(closed, true)) return false
      yield* Fiber.interrupt(ticker)
      yield* draw
      yield* Effect.sync(() => log.done())
      return true
    })

    const onEvent = (event: RunEvent): Effect.Effect<void> =>
      Effect.gen(function* () {
        if (yield* Ref.get(closed)) return
        yield* Ref.update(state, (current) => reduceDisplayState(current, event))
        if (event.type === "run.finished") {
          if (yield* finish) {
            const summary = formatSummary(event.summary)
            yield* Effect.sync(() => options.write(`${summary.join("\n")}\n`))
          }
        } else if (persisted.has(event.type)) {
          const [, lines] = plainLines(initialPlainState, event)
          if (lines.length > 0) yield* Effect.sync(() => log.persist(lines.join("\n")))
          yield* draw
        }
      })

    const close = Effect.asVoid(finish)
    yield* Effect.addFinalizer(() => close)
    return { onEvent, close }
  })
