/**
 * The exit codes of `clapper` (DESIGN.md, "CLI"), and the rule that gives a run's: here, below
 * the CLI, because the run history records with each run the code its command gave.
 */
import type { RunSummary } from "../runtime/events.ts"

export const ExitCodes = {
  ok: 0,
  jobsFailed: 1,
  invalidInput: 2,
  interrupted: 130
} as const

/**
 * The exit code of a run that ended with `summary`: 130 when interrupted; 2 when a run-level
 * stop ended it (the key refused, the state unwritable); 1 when it stopped at the budget or some
 * job failed; else 0 (a job still rendering at its timeout is not a failure: the next run picks it up).
 */
export const runExitCode = (summary: RunSummary): number => {
  if (summary.interrupted) return ExitCodes.interrupted
  if (summary.stopped) return ExitCodes.invalidInput
  if (summary.budget || summary.failed.length > 0) return ExitCodes.jobsFailed
  return ExitCodes.ok
}
