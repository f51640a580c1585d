import { Args, Command, Options } from "@effect/cli"
import { Path } from "@effect/platform"
import { Console, Effect, Option } from "effect"
import { pipelineReport } from "../report/buildReport.ts"
import { plural } from "../report/reportText.ts"
import { CliExit, ExitCodes } from "./exitCode.ts"
import { selectionExit, selectionOf, selectionOptions } from "./selectionOptions.ts"
import { invalidInputExit } from "./userErrors.ts"
import { stateOption, withStateStore } from "./stateOption.ts"

const file = Args.text({ name: "FILE" }).pipe(Args.withDescription("The pipeline file."))
const output = Options.text("output").pipe(
  Options.withPseudoName("PATH"),
  Options.optional,
  Options.withDescription(
    "Where to write the report (one self-contained HTML file). Default <pipeline stem>.report.html beside the pipeline file. Never inside a folder the outputs go to, nor over an input, the pipeline or its lock file."
  )
)
const run = Options.integer("run").pipe(
  Options.optional,
  Options.withDescription("The run to report, by its number (clapper log lists them). Default the latest.")
)

const invalid = (line: string) => new CliExit({ code: ExitCodes.invalidInput, lines: [`clapper: ${line}`] })

export const reportCommand = Command.make("report", { file, output, run, ...selectionOptions, state: stateOption }, (args) =>
  Effect.gen(function* () {
    const path = yield* Path.Path
    if (Option.isSome(args.run) && args.run.value < 1)
      return yield* Effect.fail(invalid(`--run ${args.run.value}: runs are numbered from 1`))
    const written = yield* pipelineReport(args.file, {
      output: Option.getOrUndefined(args.output),
      run: Option.getOrUndefined(args.run),
      select: selectionOf(args)
    }).pipe(
      Effect.catchTags({
        PipelineInvalid: (e) => Effect.fail(invalidInputExit(e)),
        SelectionInvalid: (e) => Effect.fail(selectionExit(e)),
        StateCorrupt: (e) => Effect.fail(invalid(e.message)),
        StateIoError: (e) => Effect.fail(invalid(e.message)),
        RunNotFound: (e) => Effect.fail(invalid(e.message)),
        RunHistoryUnreadable: (e) => Effect.fail(invalid(e.message)),
        ReportPathRefused: (e) => Effect.fail(invalid(`${e.message}.`)),
        ReportWriteError: (e) => Effect.fail(invalid(e.message))
      })
    )
    yield* Effect.forEach(written.warnings, (warning) => Console.error(`warning: ${warning}`))
    const c = written.counts
    const counts = [
      `${c.done} done`,
      `${c.failed} failed`,
      `${c["in-flight"]} in flight`,
      `${c["to-do"]} to do`,
      ...(c.missing > 0 ? [`${c.missing} missing`] : [])
    ]
    const shown = path.relative(process.cwd(), written.path) || written.path
    yield* Console.log(
      `Report of ${plural(written.jobs, "job")} (${counts.join(", ")})${written.run === undefined ? ", no run recorded yet" : `, run ${written.run}`}: ${shown}`
    )
  })
).pipe(
  withStateStore,
  Command.withDescription(
    "Write an HTML report of the pipeline (one file, no network needed to open it): counts, spend, the run's timeline per job, a gallery of the videos, failures by cause with what to do."
  )
)
