import { Args, Command, Options } from "@effect/cli"
import { Console, Effect } from "effect"
import { loadPipeline } from "../pipeline/load.ts"
import { describeHolder } from "../state/runnerLock.ts"
import { currentStateStore } from "../state/StateStore.ts"
import { CliExit, ExitCodes } from "./exitCode.ts"
import { exitOnInvalidPipeline } from "./userErrors.ts"
import { stateRefOf } from "../pipeline/stateRef.ts"
import { stateOption, withStateStore } from "./stateOption.ts"

const file = Args.file({ name: "FILE" }).pipe(Args.withDescription("The pipeline file whose runner lock to remove."))
const force = Options.boolean("force").pipe(
  Options.withDescription("Remove the lock even though its process is still running on this host.")
)

/**
 * Removes a pipeline's runner lock that a run left behind (a crash on another machine, an
 * unreadable file). A lock whose process is still running here is kept unless `--force`.
 */
export const unlockCommand = Command.make("unlock", { file, force, state: stateOption }, (args) =>
  Effect.gen(function* () {
    const pipeline = yield* exitOnInvalidPipeline(loadPipeline(args.file))
    const store = yield* currentStateStore
    const ref = stateRefOf(pipeline)
    const state = yield* store.runner(ref)
    if (state._tag === "Held" && state.status === "alive" && !args.force) {
      return yield* Effect.fail(
        new CliExit({
          code: ExitCodes.invalidInput,
          lines: [
            `clapper: ${args.file} is being run by ${describeHolder(state.holder)} (${state.holder.command}), and that process is still running: the lock was kept.`,
            `Stop that run first (Ctrl-C saves its state), or pass --force if pid ${state.holder.pid} is not that run.`
          ]
        })
      )
    }
    yield* store.unlock(ref).pipe(Effect.mapError((e) => new CliExit({ code: ExitCodes.invalidInput, lines: [`clapper: ${e.message}`] })))
    switch (state._tag) {
      case "Absent":
        return yield* Console.log(`${args.file} is not locked: nothing to remove`)
      case "Unreadable":
        return yield* Console.log(`removed an unreadable lock (${state.problem})`)
      case "Workers":
        return yield* Console.log(
          `${args.file} is worked by ${state.count} worker(s): their hold ends with each one's connection, nothing to remove`
        )
      case "Held":
        if (state.status === "alive") {
          yield* Console.error(
            `clapper: warning: pid ${state.holder.pid} is still running on this host; if it is a run of ${args.file}, two runs may now overlap`
          )
        }
        return yield* Console.log(`removed the lock held by ${describeHolder(state.holder)}`)
    }
  })
).pipe(
  withStateStore,
  Command.withDescription(
    "Remove a pipeline's runner lock left by a run that is gone (crashed, or on another machine). Refuses while the holder is still running here, unless --force. Exit 0 when the pipeline is unlocked, 2 otherwise."
  )
)
