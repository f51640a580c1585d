import { Effect } from "effect"
import { formatDiagnostic, sortDiagnostics, type PipelineInvalid } from "../pipeline/diagnostic.ts"
import { CliExit, ExitCodes } from "./exitCode.ts"

/** Turns an invalid pipeline into its diagnostics on stderr and exit code 2. */
export const invalidInputExit = (error: PipelineInvalid): CliExit =>
  new CliExit({ code: ExitCodes.invalidInput, lines: sortDiagnostics(error.diagnostics).map(formatDiagnostic) })

export const exitOnInvalidPipeline = <A, R>(effect: Effect.Effect<A, PipelineInvalid, R>): Effect.Effect<A, CliExit, R> =>
  Effect.mapError(effect, invalidInputExit)
