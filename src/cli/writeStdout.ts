/**
 * Text to stdout a piece at a time, each written before the next is made: a command's output of
 * hundreds of megabytes is never one string, and a slow reader (a pipe into `jq` or `less`)
 * holds the writer back instead of filling its memory.
 */
import { Effect } from "effect"
import { CliExit, ExitCodes } from "./exitCode.ts"

/**
 * Writes every piece of `pieces` in order, pulling the next only once the last was written. One
 * callback loop rather than an Effect per piece: an Effect per piece kept each piece's garbage
 * alive long enough to be promoted, +60 MB at 100,000 jobs.
 */
export const writePieces = (pieces: Iterable<string>, out: NodeJS.WritableStream = process.stdout): Effect.Effect<void, CliExit> =>
  Effect.async<void, CliExit>((resume) => {
    const iterator = pieces[Symbol.iterator]()
    let ended = false
    const end = (result: Effect.Effect<void, CliExit>) => {
      ended = true
      resume(result)
    }
    const next = (error?: Error | null) => {
      if (ended) return
      if (error) {
        // `clapper plan --json | head`: the reader took what it wanted; stop, as a console would.
        if ((error as NodeJS.ErrnoException).code === "EPIPE") return end(Effect.void)
        return end(
          Effect.fail(new CliExit({ code: ExitCodes.jobsFailed, lines: [`clapper: could not write to stdout: ${error.message}`] }))
        )
      }
      let step: IteratorResult<string>
      try {
        step = iterator.next()
      } catch (defect) {
        return end(Effect.die(defect))
      }
      if (step.done) {
        out.off("error", next)
        return end(Effect.void)
      }
      // The callback comes on a later tick, even for a file: no recursion, however many pieces.
      out.write(step.value, next)
    }
    // A failed write is also an "error" event, after its callback: heard here (and then ignored),
    // not an uncaught exception. Left in place after a failure for that reason.
    out.on("error", next)
    next()
    return Effect.sync(() => {
      ended = true
      out.off("error", next)
    })
  })
