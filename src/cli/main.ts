import { CliConfig, Command } from "@effect/cli"
import { Console, Effect } from "effect"
import { clapperVersion } from "../mirage/userAgent.ts"
import { checkArgv } from "./argvCheck.ts"
import { describeCommandLine } from "./commandLine.ts"
import { CliExit, ExitCodes } from "./exitCode.ts"
import { commandHelp, rootHelp, type HelpStyle } from "./help.ts"
import { lockCommand } from "./lockCommand.ts"
import { logCommand } from "./logCommand.ts"
import { planCommand } from "./planCommand.ts"
import { reportCommand } from "./reportCommand.ts"
import { resultsCommand } from "./resultsCommand.ts"
import { runCommand } from "./runCommand.ts"
import { schemaCommand } from "./schemaCommand.ts"
import { simCommand } from "./simCommand.ts"
import { statusCommand } from "./statusCommand.ts"
import { unlockCommand } from "./unlockCommand.ts"
import { validateCommand } from "./validateCommand.ts"
import { workerCommand } from "./workerCommand.ts"

const commands = [
  validateCommand,
  planCommand,
  runCommand,
  workerCommand,
  statusCommand,
  resultsCommand,
  reportCommand,
  logCommand,
  lockCommand,
  unlockCommand,
  schemaCommand,
  simCommand
] as const

/** The root command with its subcommands, as @effect/cli runs it. */
export const clapper = Command.make("clapper").pipe(
  Command.withDescription("Declarative, resumable talking-head video production on the Mirage Video API."),
  Command.withSubcommands(commands)
)

/**
 * How @effect/cli parses and what it prints itself (its own help is never reached: `--help` is
 * answered by help.ts): no built-in options or types repeated in every command's help.
 */
export const cliConfig = CliConfig.make({ showBuiltIns: false, showTypes: false })

/** @effect/cli's command line, ready for `process.argv`, without the pre-check. */
export const cli = Command.run(clapper, { name: "clapper", version: clapperVersion })

/** Every command, option and argument, read from the definitions above. */
export const commandLine = describeCommandLine({ name: "clapper", version: clapperVersion, root: clapper, commands, config: cliConfig })

/**
 * The whole command line, ready for `process.argv`: the arguments are checked against
 * `commandLine` first (an unknown option or command is named, with "did you mean", exit 2),
 * `--help` is answered here, and the rest goes to @effect/cli.
 */
export const main = (argv: ReadonlyArray<string>, style: HelpStyle) =>
  Effect.suspend(() => {
    const outcome = checkArgv(commandLine, argv.slice(2))
    switch (outcome._tag) {
      case "Help":
        return Console.log(outcome.command ? commandHelp(commandLine, outcome.command, style) : rootHelp(commandLine, style))
      case "Invalid":
        return Effect.fail(new CliExit({ code: ExitCodes.invalidInput, lines: outcome.lines }))
      case "Run":
        return cli(argv)
    }
  }).pipe(Effect.provide(CliConfig.layer(cliConfig)))
