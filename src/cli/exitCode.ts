import { ValidationError } from "@effect/cli"
import { Cause, Data, Exit } from "effect"
import { ExitCodes } from "../app/exitCodes.ts"

/** Exit codes of every `clapper` command (DESIGN.md, "CLI"); defined below the CLI, where a run's is recorded. */
export { ExitCodes }

/**
 * A command's deliberate, already-explained end: `lines` go to stderr as they are (no stack
 * trace, no "Error:" prefix), then the process exits with `code`.
 */
export class CliExit extends Data.TaggedError("CliExit")<{
  readonly code: number
  readonly lines: ReadonlyArray<string>
}> {}

/** Maps how the main program ended to the process's exit code. */
export const exitCodeOf = <E, A>(exit: Exit.Exit<A, E>): number => {
  if (Exit.isSuccess(exit)) return ExitCodes.ok
  if (Cause.isInterruptedOnly(exit.cause)) return ExitCodes.interrupted
  const failure = Cause.failureOption(exit.cause)
  if (failure._tag === "Some") {
    const error: unknown = failure.value
    if (error instanceof CliExit) return error.code
    // @effect/cli's own usage errors (unknown option, missing argument) are bad input.
    if (ValidationError.isValidationError(error)) return ExitCodes.invalidInput
  }
  return ExitCodes.jobsFailed
}
