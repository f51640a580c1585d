/**
 * `--state`: where a campaign's state lives. Absent (and no `CLAPPER_STATE`), the files beside the
 * pipeline; a `postgres://` connection string, a database shared by every machine that runs or
 * watches the campaign. The string is a secret: it is checked here, kept redacted, and every
 * message names the database without its password.
 */
import { Command, Options } from "@effect/cli"
import { Effect, Layer, Option } from "effect"
import { parseStateUrl } from "../state/postgres/stateUrl.ts"
import { defaultStateStore, type StateStore } from "../state/StateStore.ts"
import { CliExit, ExitCodes } from "./exitCode.ts"

export const stateEnvironmentVariable = "CLAPPER_STATE"

export const stateOption = Options.text("state").pipe(
  Options.optional,
  Options.withDescription(
    `Where the campaign's state lives: postgres://user:password@host:5432/database, shared by every machine that runs or watches it (default ${stateEnvironmentVariable}, else files beside the pipeline). A secret, like the API key: never printed.`
  )
)

/** The store `--state` (else `CLAPPER_STATE`) names; when neither is given, the pipeline's own `state:`, else files. For `Command.provide`. */
export const stateLayer = (args: { readonly state: Option.Option<string> }): Layer.Layer<StateStore, CliExit> => {
  const fromEnv = process.env[stateEnvironmentVariable]
  const [text, source] = Option.isSome(args.state)
    ? [args.state.value, "--state"]
    : fromEnv !== undefined && fromEnv !== ""
      ? [fromEnv, stateEnvironmentVariable]
      : [undefined, ""]
  if (text === undefined) return defaultStateStore
  const location = parseStateUrl(text, source)
  if (location._tag === "StateUrlInvalid") {
    return Layer.fail(new CliExit({ code: ExitCodes.invalidInput, lines: [`clapper: ${location.message}`] }))
  }
  // Loaded only when asked for: a run on the file store does not pay for the database client's start-up.
  return Layer.unwrapEffect(
    Effect.map(
      Effect.promise(() => import("../state/postgres/PostgresStateStore.ts")),
      (store) => store.postgresStateStore(location)
    )
  )
}

/** A command with `--state` runs on the store it names. */
export const withStateStore = <Name extends string, R, E, A extends { readonly state: Option.Option<string> }>(
  self: Command.Command<Name, R, E, A>
) => Command.provide(self, (args: A) => stateLayer(args))
