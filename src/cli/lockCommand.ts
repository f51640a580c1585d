import { Args, Command } from "@effect/cli"
import { Console, Effect } from "effect"
import { exportLockFile } from "../app/exportLock.ts"
import { CliExit, ExitCodes } from "./exitCode.ts"
import { stateOption, withStateStore } from "./stateOption.ts"
import { invalidInputExit } from "./userErrors.ts"

const file = Args.text({ name: "FILE" }).pipe(Args.withDescription("The pipeline file."))

/** Writes the pipeline's lock file from the state (a shared database's, with --state) on this machine. */
export const lockCommand = Command.make("lock", { file, state: stateOption }, (args) =>
  Effect.gen(function* () {
    const written = yield* exportLockFile(args.file).pipe(
      Effect.catchTags({
        PipelineInvalid: (e) => Effect.fail(invalidInputExit(e)),
        StateCorrupt: (e) => Effect.fail(new CliExit({ code: ExitCodes.invalidInput, lines: [`clapper: ${e.message}`] })),
        StateIoError: (e) => Effect.fail(new CliExit({ code: ExitCodes.invalidInput, lines: [`clapper: ${e.message}`] }))
      })
    )
    yield* Console.log(`${written.outputs} output${written.outputs === 1 ? "" : "s"} in ${written.path}`)
  })
).pipe(
  withStateStore,
  Command.withDescription(
    "Write the pipeline's lock file from its state: what each output was rendered from. With --state, from the shared database, on any machine; the bytes are what a run writes."
  )
)
