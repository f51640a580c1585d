/**
 * The job selectors every command that works on a pipeline's jobs takes (`run`, `plan`,
 * `status`, `results`, `report`): `--only ID|GLOB`, `--set NAME` (both repeatable), `--limit N`,
 * `--retry-failed`. Spread `selectionOptions` into a command's options, turn the parsed values
 * into the library's `JobSelection` with `selectionOf`, and a `SelectionInvalid` into exit 2 with
 * `selectionExit`. What they mean is plan/selection.ts.
 */
import { Options } from "@effect/cli"
import { Effect, Option } from "effect"
import type { LoadedPipeline } from "../pipeline/load.ts"
import type { Plan } from "../plan/plan.ts"
import { readSelectedState } from "../plan/planState.ts"
import { selectionFlags, type JobSelection, type Selected, type SelectionInvalid } from "../plan/selection.ts"
import { CliExit, ExitCodes } from "./exitCode.ts"

export const selectionOptions = {
  only: Options.text("only").pipe(
    Options.withPseudoName("ID|GLOB"),
    Options.repeated,
    Options.withDescription(
      "Only the job with this id (its output path relative to the project root) or the jobs whose ids match this glob, e.g. 'renders/outreach/*'; repeatable (any of them)."
    )
  ),
  set: Options.text("set").pipe(
    Options.withPseudoName("NAME"),
    Options.repeated,
    Options.withDescription("Only the jobs of this set; repeatable (any of them). With --only: jobs that match both.")
  ),
  limit: Options.integer("limit").pipe(
    Options.optional,
    Options.withDescription("Only the first N selected jobs, in plan order (a proof round before the whole campaign).")
  ),
  retryFailed: Options.boolean("retry-failed").pipe(
    Options.withDescription("Only the selected jobs whose last attempt failed (from the journal).")
  )
} as const

/** The parsed values of `selectionOptions`. */
export interface SelectionArgs {
  readonly only: ReadonlyArray<string>
  readonly set: ReadonlyArray<string>
  readonly limit: Option.Option<number>
  readonly retryFailed: boolean
}

/** The flags as the library's `JobSelection`: only what was given. */
export const selectionOf = (args: SelectionArgs): JobSelection => ({
  ...(args.only.length > 0 ? { only: args.only } : {}),
  ...(args.set.length > 0 ? { sets: args.set } : {}),
  ...(Option.isSome(args.limit) ? { limit: args.limit.value } : {}),
  ...(args.retryFailed ? { retryFailed: true } : {})
})

/** Selectors that cannot be used: each named, with what is close to it; exit 2. */
export const selectionExit = (error: SelectionInvalid): CliExit =>
  new CliExit({ code: ExitCodes.invalidInput, lines: error.lines.map((line) => `clapper: ${line}`) })

/** "3 of 12 jobs selected (--set hero --limit 3)", for a command's first lines; empty when every job is. */
export const describeSelection = (selection: JobSelection, selected: Selected<unknown>, total: number): string =>
  selected.everything
    ? ""
    : `${selected.jobs.length} of ${total} job${total === 1 ? "" : "s"} selected (${selectionFlags(selection)})${
        selected.jobs.length < selected.matched ? `: the first ${selected.jobs.length} of ${selected.matched} matching` : ""
      }`

/** Said by every command when `--retry-failed` finds nothing to retry (exit 0). */
export const nothingFailedLine = "clapper: --retry-failed: no selected job failed in an earlier run: nothing to do"

/** The selected jobs' state, for `plan` and `status`: a bad selector or damaged state is exit 2. */
export const readSelectedStateOrExit = (pipeline: LoadedPipeline, plan: Plan, selection: JobSelection) =>
  readSelectedState(pipeline, plan, selection).pipe(
    Effect.catchTags({
      SelectionInvalid: (e) => Effect.fail(selectionExit(e)),
      StateCorrupt: (e) => Effect.fail(new CliExit({ code: ExitCodes.invalidInput, lines: [e.message] })),
      StateIoError: (e) => Effect.fail(new CliExit({ code: ExitCodes.invalidInput, lines: [e.message] }))
    })
  )
