import { Command } from "@effect/cli"
import { clapperVersion } from "../mirage/UserAgent.ts"
import { planCommand } from "./planCommand.ts"
import { runCommand } from "./runCommand.ts"
import { schemaCommand } from "./schemaCommand.ts"
import { simCommand } from "./simCommand.ts"
import { statusCommand } from "./statusCommand.ts"
import { unlockCommand } from "./unlockCommand.ts"
import { validateCommand } from "./validateCommand.ts"

const clapper = Command.make("clapper").pipe(
  Command.withDescription("Declarative, resumable talking-head video production on the Mirage Video API."),
  Command.withSubcommands([validateCommand, planCommand, runCommand, statusCommand, unlockCommand, schemaCommand, simCommand])
)

/** The whole command line, ready for `process.argv`. */
export const cli = Command.run(clapper, { name: "clapper", version: clapperVersion })
