/**
 * A pipeline file, run: load → (key or simulator) → plan → run → record. The CLI's `run` and the
 * library's `runPipeline` are this, with different ways of showing the events.
 */
import { FileSystem, Path } from "@effect/platform"
import { Effect } from "effect"
import type { MissingApiKey } from "../mirage/MirageError.ts"
import type { PipelineInvalid } from "../pipeline/diagnostic.ts"
import { loadPipeline } from "../pipeline/load.ts"
import { planPipeline } from "../plan/plan.ts"
import type { SimulatorStartError } from "../sim/Simulator.ts"
import { stateDir, writeInFlightRecord } from "../state/inFlightRecord.ts"
import { clientLayer, type Backend } from "./backend.ts"
import type { RunEvent, RunSummary } from "./events.ts"
import { runPlan } from "./runPlan.ts"
import { resolveRunSettings, type RunOverrides, type RunSettings } from "./runSettings.ts"

export interface RunPipelineOptions extends RunOverrides {
  readonly backend: Backend
  readonly emit?: (event: RunEvent) => Effect.Effect<void>
  /** Replaces defaults the pipeline does not set (tests use short polls). */
  readonly baseSettings?: RunSettings
}

export const runPipeline = (
  file: string,
  options: RunPipelineOptions
): Effect.Effect<RunSummary, PipelineInvalid | MissingApiKey | SimulatorStartError, FileSystem.FileSystem | Path.Path> =>
  Effect.scoped(
    Effect.gen(function* () {
      const path = yield* Path.Path
      const pipeline = yield* loadPipeline(file)
      // The key is checked before any input is read or anything sent.
      const client = yield* clientLayer(options.backend, pipeline.spec)
      const plan = yield* planPipeline(pipeline)
      const settings = resolveRunSettings(pipeline.spec, options, options.baseSettings)
      const dir = stateDir(pipeline.dir, pipeline.spec.name, path)
      return yield* runPlan(plan, {
        settings,
        emit: options.emit ?? (() => Effect.void),
        onFinish: (summary) =>
          writeInFlightRecord(dir, {
            version: 1,
            pipeline: pipeline.file,
            recordedAt: new Date().toISOString(),
            interrupted: summary.interrupted,
            inFlight: summary.inFlight,
            unknownOutcome: summary.unknownOutcome
          }).pipe(Effect.orDie)
      }).pipe(Effect.provide(client))
    })
  )
