import { Effect, Ref } from "effect"
import { initialPlainState, plainLines } from "./plainLine.ts"
import type { ProgressRenderer } from "./ProgressRenderer.ts"

/** Stdout is not a terminal: one line per meaningful event, and the summary block at the end. */
export const makePlainRenderer = (write: (text: string) => void): Effect.Effect<ProgressRenderer> =>
  Effect.gen(function* () {
    const state = yield* Ref.make(initialPlainState)
    const closed = yield* Ref.make(false)
    return {
      onEvent: (event) =>
        Effect.gen(function* () {
          if (yield* Ref.get(closed)) return
          const lines = yield* Ref.modify(state, (current) => {
            const [next, out] = plainLines(current, event)
            return [out, next]
          })
          if (lines.length > 0) yield* Effect.sync(() => write(`${lines.join("\n")}\n`))
        }),
      close: Ref.set(closed, true)
    }
  })
