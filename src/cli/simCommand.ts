import { Command } from "@effect/cli"
import { Console } from "effect"

// Placeholder: the simulator issue replaces this with the real `clapper sim`.
export const simCommand = Command.make("sim", {}, () => Console.log("not yet")).pipe(
  Command.withDescription("Serve a local Mirage-compatible API (the simulator).")
)
