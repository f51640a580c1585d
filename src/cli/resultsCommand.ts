import { Args, Command } from "@effect/cli"
import { Console } from "effect"

const file = Args.file({ name: "FILE" }).pipe(Args.withDescription("The pipeline file."))

/** Placeholder: being built (issue 14). */
export const resultsCommand = Command.make("results", { file }, () => Console.log("not built yet")).pipe(
  Command.withDescription("(being built)")
)
