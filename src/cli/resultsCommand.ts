import { Args, Command, Options } from "@effect/cli"
import { Path } from "@effect/platform"
import { Console, Effect, Option } from "effect"
import { checkResultsPath, collectResults, selectResults, writeResultsFile } from "../app/results.ts"
import { formatForPath, formatResults } from "../app/resultsFormat.ts"
import { loadPipeline } from "../pipeline/load.ts"
import { resultsFormats } from "../pipeline/schema.ts"
import { planPipeline } from "../plan/plan.ts"
import { currentStateStore } from "../state/StateStore.ts"
import { CliExit, ExitCodes } from "./exitCode.ts"
import { selectionExit, selectionOf, selectionOptions } from "./selectionOptions.ts"
import { exitOnInvalidPipeline } from "./userErrors.ts"
import { stateRefOf } from "../pipeline/stateRef.ts"
import { stateOption, withStateStore } from "./stateOption.ts"

const file = Args.text({ name: "FILE" }).pipe(Args.withDescription("The pipeline file."))
const format = Options.choice("format", resultsFormats).pipe(
  Options.optional,
  Options.withDescription(
    "csv (RFC 4180, spreadsheet-safe), json (one array) or jsonl (one result per line). Default csv; with --output, the file's extension (.json, .jsonl) chooses."
  )
)
const output = Options.text("output").pipe(
  Options.withPseudoName("path"),
  Options.optional,
  Options.withDescription(
    "Write the table to this file (whole or not at all) instead of stdout. Never inside a folder the outputs go to, nor over an input, a data file, the pipeline or its lock file."
  )
)

/** Writes all of `text` to stdout before the command ends (a large table through a pipe too). */
const writeStdout = (text: string) =>
  Effect.async<void>((resume) => {
    process.stdout.write(text, () => resume(Effect.void))
  })

const invalid = (line: string) => new CliExit({ code: ExitCodes.invalidInput, lines: [`clapper: ${line}`] })

export const resultsCommand = Command.make("results", { file, format, output, ...selectionOptions, state: stateOption }, (args) =>
  Effect.gen(function* () {
    const pipeline = yield* exitOnInvalidPipeline(loadPipeline(args.file))
    const plan = yield* exitOnInvalidPipeline(planPipeline(pipeline))
    const path = yield* Path.Path
    const target = Option.map(args.output, (shown) => ({ shown, absolute: path.resolve(shown) }))
    // Refused before anything is read: the table would be written nowhere.
    if (Option.isSome(target)) {
      yield* checkResultsPath(pipeline, plan, target.value.absolute, target.value.shown).pipe(
        Effect.mapError((e) => invalid(`${e.message}.`))
      )
    }
    const store = yield* currentStateStore
    const stored = yield* store.read(stateRefOf(pipeline)).pipe(Effect.mapError((e) => invalid(e.message)))
    yield* Effect.forEach(stored.warnings, (warning) => Console.error(`warning: ${warning}`))
    const results = yield* selectResults(plan, yield* collectResults(pipeline, plan, stored), selectionOf(args)).pipe(
      Effect.mapError(selectionExit)
    )
    const chosen = Option.getOrElse(args.format, () => (Option.isSome(target) ? formatForPath(target.value.shown) : "csv"))
    const text = formatResults(results, chosen)
    if (Option.isNone(target)) return yield* writeStdout(text)
    yield* writeResultsFile(target.value.absolute, text).pipe(Effect.mapError((e) => invalid(e.message)))
    yield* Console.log(`${results.length} result${results.length === 1 ? "" : "s"} (${chosen}) written to ${target.value.shown}`)
  })
).pipe(
  withStateStore,
  Command.withDescription(
    "One row per job, joined to its data row: output, state, video id, share link, duration, estimated cost, attempts, last error. CSV on stdout by default."
  )
)
