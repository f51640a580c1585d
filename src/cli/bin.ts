import { ValidationError } from "@effect/cli"
import { NodeContext, NodeRuntime } from "@effect/platform-node"
import { Cause, Console, Effect, Option } from "effect"
import { CliExit, exitCodeOf } from "./exitCode.ts"
import { helpStyleFor } from "./help.ts"
import { main } from "./main.ts"

/** What the user sees when a command fails: its own explanation, or the defect for a bug report. */
const report = (cause: Cause.Cause<unknown>) => {
  if (Cause.isInterruptedOnly(cause)) return Effect.void
  const failure = Cause.failureOption(cause)
  if (Option.isSome(failure)) {
    const error = failure.value
    if (error instanceof CliExit) return Effect.forEach(error.lines, (line) => Console.error(line))
    // @effect/cli has already printed its usage error with help.
    if (ValidationError.isValidationError(error)) return Effect.void
  }
  return Console.error(`clapper: internal error (please report it):\n${Cause.pretty(cause)}`)
}

const program = main(process.argv, helpStyleFor(process.stdout, process.env)).pipe(
  Effect.tapErrorCause(report),
  Effect.provide(NodeContext.layer),
  // The CLI exports no traces: a span per request (each with a captured stack) would be pure cost.
  // A program embedding the library keeps its own tracer.
  Effect.withTracerEnabled(false)
)

NodeRuntime.runMain(program, {
  disableErrorReporting: true,
  disablePrettyLogger: true,
  teardown: (exit, onExit) => onExit(exitCodeOf(exit))
})
