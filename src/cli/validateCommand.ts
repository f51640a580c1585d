import { Args, Command } from "@effect/cli"
import { Console, Effect } from "effect"
import { formatDiagnostic, sortDiagnostics } from "../pipeline/diagnostic.ts"
import { loadPipeline } from "../pipeline/load.ts"
import { checkPipeline } from "../plan/plan.ts"
import { resultsOptionDiagnostics } from "../app/results.ts"
import { CliExit, ExitCodes } from "./exitCode.ts"

const files = Args.text({ name: "FILE" }).pipe(Args.atLeast(1), Args.withDescription("Pipeline files to check."))

/**
 * Every check short of sending: schema, templates, expansion, inputs read and sniffed, outputs
 * inside the project. All files are checked even when an early one fails.
 */
export const validateCommand = Command.make("validate", { files }, ({ files }) =>
  Effect.gen(function* () {
    const problems: Array<string> = []
    for (const file of files) {
      // Every check of a plan, without building one (fingerprints, costs), and the `results:` path.
      const result = yield* Effect.either(
        Effect.gen(function* () {
          const pipeline = yield* loadPipeline(file)
          const jobs = yield* checkPipeline(pipeline)
          return { jobs, resultsProblems: yield* resultsOptionDiagnostics(pipeline, jobs) }
        })
      )
      if (result._tag === "Right" && result.right.resultsProblems.length > 0) {
        problems.push(...sortDiagnostics(result.right.resultsProblems).map(formatDiagnostic))
      } else if (result._tag === "Right") {
        const n = result.right.jobs.length
        yield* Console.log(`${file}: ok, ${n} job${n === 1 ? "" : "s"}`)
      } else {
        problems.push(...sortDiagnostics(result.left.diagnostics).map(formatDiagnostic))
      }
    }
    if (problems.length > 0) return yield* Effect.fail(new CliExit({ code: ExitCodes.invalidInput, lines: problems }))
  })
).pipe(Command.withDescription("Check pipeline files and their inputs without sending anything. Exit 0 if all are valid, 2 otherwise."))
