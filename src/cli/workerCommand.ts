/**
 * `clapper worker FILE --state postgres://…`: one of several runners working one campaign, on
 * this machine or any other with a checkout of the project (and, for the outputs, the same
 * filesystem): each render is done once, by the worker the durable engine hands it to, within the
 * key's quota shared by all; a worker that dies hands its renders to the others. Every worker
 * ends when the campaign is done, with the whole campaign's summary, and writes the lock file.
 */
import { Command, Options } from "@effect/cli"
import { Effect, Option } from "effect"
import { createServer } from "node:net"
import { hostname } from "node:os"
import { CliExit, ExitCodes } from "./exitCode.ts"
import { renderPipelineCommand, runOptions } from "./runCommand.ts"
import { withStateStore } from "./stateOption.ts"

const address = Options.text("address").pipe(
  Options.optional,
  Options.withDescription(
    "HOST[:PORT] where the other workers reach this one (the workers' engine talks over TCP). Default: this machine's hostname and a free port."
  )
)

/** A free port on `host`, as the system gives one. */
const freePort = (host: string) =>
  Effect.async<number, Error>((resume) => {
    const server = createServer()
    server.once("error", (e) => resume(Effect.fail(e)))
    server.listen(0, host, () => {
      const found = server.address()
      server.close(() => resume(typeof found === "object" && found ? Effect.succeed(found.port) : Effect.fail(new Error("no port"))))
    })
  })

const parseAddress = (text: string) => {
  const match = /^(?<host>\[[^\]]+\]|[^:]+)(?::(?<port>\d+))?$/.exec(text.trim())
  const port = match?.groups?.port === undefined ? 0 : Number(match.groups.port)
  if (!match?.groups?.host || !Number.isInteger(port) || port > 65535) return undefined
  return { host: match.groups.host.replace(/^\[|\]$/g, ""), port }
}

// Every worker works the whole campaign (a selection would make workers plan different units), on
// one provider (a simulator of its own per worker would not know the others' videos: share one
// `clapper sim` with --base-url instead).
const {
  wait: _wait,
  rebuildState: _rebuild,
  sim: _sim,
  only: _only,
  set: _set,
  limit: _limit,
  retryFailed: _retryFailed,
  ...options
} = runOptions

export const workerCommand = Command.make("worker", { ...options, address }, (args) =>
  Effect.gen(function* () {
    const given = Option.getOrUndefined(args.address)
    const parsed = given === undefined ? { host: hostname(), port: 0 } : parseAddress(given)
    if (parsed === undefined)
      return yield* Effect.fail(
        new CliExit({ code: ExitCodes.invalidInput, lines: [`clapper: --address ${given} is not HOST[:PORT] (e.g. 10.0.0.5:34431)`] })
      )
    const port =
      parsed.port !== 0
        ? parsed.port
        : yield* freePort(parsed.host).pipe(
            Effect.mapError(
              (e) =>
                new CliExit({
                  code: ExitCodes.invalidInput,
                  lines: [
                    `clapper: cannot listen on ${parsed.host} (${e.message}): give an address of this machine with --address HOST[:PORT]`
                  ]
                })
            )
          )
    return yield* renderPipelineCommand(
      { ...args, sim: false, only: [], set: [], limit: Option.none(), retryFailed: false },
      { address: { host: parsed.host, port } }
    )
  })
).pipe(
  withStateStore,
  Command.withDescription(
    "Work a campaign together with other workers (on this machine or others, each with a checkout of the project): needs --state postgres://… (or `state:` in the pipeline). Each render is done once, by one worker, within the key's quota shared by all; a worker that dies hands its renders to the others. Every worker ends when the campaign is done. Exit codes as for run."
  )
)
