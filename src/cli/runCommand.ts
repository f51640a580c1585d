import { Args, Command, Options } from "@effect/cli"
import { Effect, Option } from "effect"
import { runPipeline, type RunPipelineOptions } from "../app/runPipeline.ts"
import { CliExit, ExitCodes } from "./exitCode.ts"
import { chooseRenderer } from "./progress/chooseRenderer.ts"
import { quotaOption, quotaOverrides } from "./quotaOption.ts"
import { selectionExit, selectionOf, selectionOptions } from "./selectionOptions.ts"
import { invalidInputExit } from "./userErrors.ts"
import { stateOption, withStateStore } from "./stateOption.ts"

const file = Args.file({ name: "FILE" }).pipe(Args.withDescription("The pipeline file."))
const sim = Options.boolean("sim").pipe(
  Options.withDescription("Render on the built-in simulator (loopback, throwaway key, real MP4s) instead of the API.")
)
const baseUrl = Options.text("base-url").pipe(
  Options.optional,
  Options.withDescription("API base URL (overrides the pipeline's provider.baseUrl and MIRAGE_BASE_URL).")
)
const concurrency = Options.integer("concurrency").pipe(
  Options.optional,
  Options.withDescription("Jobs in flight at the provider (overrides run.concurrency).")
)
const json = Options.boolean("json").pipe(Options.withDescription("Print NDJSON events on stdout instead of progress."))
const budget = Options.float("budget").pipe(
  Options.optional,
  Options.withDescription(
    "Most estimated spend in USD (overrides run.budgetUsd): refuse to start above it, stop submitting before passing it."
  )
)
const quota = quotaOption(
  "The provider's quota for your key, of one kind of request (overrides provider.limits)",
  "provider.limits, else the published quotas: generation 2/min, captions 100/min, others 300/min"
)
const rebuildState = Options.boolean("rebuild-state").pipe(
  Options.withDescription("Set an unreadable journal or lock file aside and rebuild the state from the lock file and the outputs on disk.")
)

const wait = Options.boolean("wait").pipe(
  Options.withDescription(
    "When another run holds the campaign (with --state: on any machine), wait and take over as soon as it ends or dies, going on from its state: a standby runner."
  )
)

type RunArgs = Command.Command.ParseConfig<typeof runOptions>

export const runOptions = {
  file,
  sim,
  baseUrl,
  concurrency,
  json,
  rebuildState,
  wait,
  budget,
  quota,
  ...selectionOptions,
  state: stateOption
}

/** `run`, and `worker` (a run as one of several workers on the campaign). */
export const renderPipelineCommand = (
  args: Omit<RunArgs, "wait" | "rebuildState"> & Partial<RunArgs>,
  worker?: RunPipelineOptions["worker"]
) =>
  Effect.scoped(
    Effect.gen(function* () {
      if (Option.isSome(args.concurrency) && args.concurrency.value < 1) {
        return yield* Effect.fail(new CliExit({ code: ExitCodes.invalidInput, lines: ["--concurrency must be 1 or more"] }))
      }
      const renderer = yield* chooseRenderer({
        json: args.json,
        isTTY: process.stdout.isTTY === true,
        columns: process.stdout.columns,
        write: (text) => process.stdout.write(text),
        writeErr: (text) => process.stderr.write(text)
      })
      const summary = yield* runPipeline(args.file, {
        backend: args.sim ? { _tag: "Simulator" } : { _tag: "Api", baseUrl: Option.getOrUndefined(args.baseUrl) },
        concurrency: Option.getOrUndefined(args.concurrency),
        rebuildState: args.rebuildState === true,
        waitForRunner: args.wait === true,
        budgetUsd: Option.getOrUndefined(args.budget),
        quotas: quotaOverrides(args.quota),
        select: selectionOf(args),
        // The run history records the command line as typed (secrets blanked).
        commandLine: ["clapper", ...process.argv.slice(2)],
        emit: renderer.onEvent,
        ...(worker ? { worker } : {})
      }).pipe(
        Effect.ensuring(renderer.close),
        Effect.catchTags({
          PipelineInvalid: (e) => Effect.fail(invalidInputExit(e)),
          MissingApiKey: (e) =>
            Effect.fail(
              new CliExit({
                code: ExitCodes.invalidInput,
                lines: [`clapper: ${e.message}. Set it to your Mirage API key, or use --sim to try the pipeline on the simulator.`]
              })
            ),
          SimulatorStartError: (e) => Effect.fail(new CliExit({ code: ExitCodes.invalidInput, lines: [`clapper: ${e.message}`] })),
          StateCorrupt: (e) => Effect.fail(new CliExit({ code: ExitCodes.invalidInput, lines: [`clapper: ${e.message}`] })),
          StateIoError: (e) => Effect.fail(new CliExit({ code: ExitCodes.invalidInput, lines: [`clapper: ${e.message}`] })),
          RunnerLocked: (e) => Effect.fail(new CliExit({ code: ExitCodes.invalidInput, lines: [`clapper: ${e.message}`] })),
          RunnerLockFailed: (e) => Effect.fail(new CliExit({ code: ExitCodes.invalidInput, lines: [`clapper: ${e.message}`] })),
          BudgetExceeded: (e) => Effect.fail(new CliExit({ code: ExitCodes.invalidInput, lines: [`clapper: ${e.message}`] })),
          SelectionInvalid: (e) => Effect.fail(selectionExit(e)),
          WorkerCannotStart: (e) => Effect.fail(new CliExit({ code: ExitCodes.invalidInput, lines: [`clapper: ${e.message}`] }))
        })
      )
      // A run-level stop (the key refused, the state folder unwritable): one message, exit 2.
      if (summary.stopped)
        return yield* Effect.fail(new CliExit({ code: ExitCodes.invalidInput, lines: [`clapper: ${summary.stopped.message}`] }))
      if (summary.budget) {
        const { limitUsd, leftToDo } = summary.budget
        return yield* Effect.fail(
          new CliExit({
            code: ExitCodes.jobsFailed,
            lines: [
              `clapper: stopped at the budget of $${limitUsd.toFixed(2)}: ${leftToDo} job${leftToDo === 1 ? "" : "s"} left to do (state saved; raise run.budgetUsd or pass --budget, then run again)`
            ]
          })
        )
      }
      if (summary.failed.length > 0) return yield* Effect.fail(new CliExit({ code: ExitCodes.jobsFailed, lines: [] }))
    })
  )

export const runCommand = Command.make("run", runOptions, (args) => renderPipelineCommand(args)).pipe(
  withStateStore,
  Command.withDescription(
    "Render a pipeline: submit, poll and download every job (or those --only, --set, --limit, --retry-failed select), with retries and live progress. Exit 0 when all jobs completed, 1 when some failed, 2 on invalid input, 130 when interrupted (state saved)."
  )
)
