/**
 * Clapper as a library. Every operation is an Effect (needing the platform's FileSystem and Path,
 * e.g. `NodeContext.layer`) with a Promise-returning twin for programs that do not use Effect.
 * A Promise twin rejects with the same typed error the Effect fails with (e.g. `PipelineInvalid`,
 * whose `diagnostics` list every problem as file, line, column and message).
 */
import type { FileSystem, Path } from "@effect/platform"
import { NodeContext } from "@effect/platform-node"
import { Effect, Either } from "effect"
import type { PipelineInvalid } from "./pipeline/diagnostic.ts"
import { expandPipeline } from "./pipeline/expand.ts"
import type { Job } from "./pipeline/job.ts"
import { loadPipeline, type LoadedPipeline } from "./pipeline/load.ts"
import { planPipeline, type Plan } from "./plan/plan.ts"
import type { RunEvent, RunSummary } from "./runtime/events.ts"
import { runPipeline, type RunPipelineOptions } from "./app/runPipeline.ts"

export { formatDiagnostic, PipelineInvalid, type Diagnostic } from "./pipeline/diagnostic.ts"
export type { InputFile, Job, Origin } from "./pipeline/job.ts"
export type { LoadedPipeline } from "./pipeline/load.ts"
export { pipelineJsonSchema } from "./pipeline/jsonSchema.ts"
export { Pipeline } from "./pipeline/schema.ts"
export { fingerprint, recipeVersion, type FingerprintInputs } from "./plan/fingerprint.ts"
export type { Plan, PlannedInput, PlannedJob } from "./plan/plan.ts"
export { planToJson } from "./cli/planJson.ts"
export { estimateVideoCostUsd, limits, pricing } from "./mirage/limits.ts"
export { expandPipeline, loadPipeline, planPipeline, runPipeline }
export type { Backend } from "./app/backend.ts"
export type { FailedJob, InFlightJob, JobStep, RunEvent, RunEventType, RunSummary } from "./runtime/events.ts"
export { runPipelineEvents } from "./app/runEvents.ts"
export { runPlan, type RunPlanOptions } from "./runtime/runPlan.ts"
export type { RunPipelineOptions } from "./app/runPipeline.ts"
export { defaultRunSettings, resolveRunSettings, type RunOverrides, type RunSettings } from "./runtime/runSettings.ts"
export { MirageClient } from "./mirage/MirageClient.ts"
export * as Mirage from "./mirage/MirageClient.ts"
export { makeMirageConfig, type MirageConfig } from "./mirage/mirageConfig.ts"
export * as Simulator from "./sim/Simulator.ts"
export {
  currentStateStore,
  fileStateStore,
  StateStore,
  type RunState,
  type StateRef,
  type StateStoreService,
  type StoredState
} from "./state/StateStore.ts"
export { perMinute, publishedQuotas, type Quotas, type Rate, type RequestKind } from "./mirage/quotas.ts"

type Platform = FileSystem.FileSystem | Path.Path

/** Load, expand and check everything (inputs read, nothing sent): the plan of a valid pipeline file. */
export const validatePipeline = (file: string): Effect.Effect<Plan, PipelineInvalid, Platform> =>
  Effect.flatMap(loadPipeline(file), planPipeline)

/** Runs an Effect on Node's platform; rejects with the Effect's own error, not a wrapper. */
const runOnNode = <A, E>(effect: Effect.Effect<A, E, Platform>): Promise<A> =>
  Effect.runPromise(Effect.either(Effect.provide(effect, NodeContext.layer))).then((result) =>
    Either.isRight(result) ? result.right : Promise.reject(result.left)
  )

export const loadPipelinePromise = (file: string): Promise<LoadedPipeline> => runOnNode(loadPipeline(file))
export const expandPipelinePromise = (pipeline: LoadedPipeline): Promise<ReadonlyArray<Job>> => runOnNode(expandPipeline(pipeline))
export const planPipelinePromise = (pipeline: LoadedPipeline): Promise<Plan> => runOnNode(planPipeline(pipeline))
export const validatePipelinePromise = (file: string): Promise<Plan> => runOnNode(validatePipeline(file))

/**
 * Renders a pipeline file: the Promise twin of `runPipeline`. `onEvent` receives every event as
 * it happens; the promise resolves with the summary (failed jobs are in it, not a rejection) and
 * rejects on invalid input, a missing key, or a simulator that cannot start.
 */
export const runPipelinePromise = (
  file: string,
  options: Omit<RunPipelineOptions, "emit"> & { readonly onEvent?: (event: RunEvent) => void }
): Promise<RunSummary> => {
  const { onEvent, ...rest } = options
  return runOnNode(runPipeline(file, { ...rest, emit: (event) => Effect.sync(() => onEvent?.(event)) }))
}
