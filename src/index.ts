/**
 * Clapper as a library. Every operation is an Effect (needing the platform's FileSystem and Path,
 * e.g. `NodeContext.layer`) with a Promise-returning twin for programs that do not use Effect.
 * A Promise twin rejects with the same typed error the Effect fails with (e.g. `PipelineInvalid`,
 * whose `diagnostics` list every problem as file, line, column and message).
 */
import type { FileSystem, Path } from "@effect/platform"
import { Effect } from "effect"
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
import { runOnNode } from "./app/onNode.ts"
import { exportLockFile, type ExportedLock } from "./app/exportLock.ts"
import { postgresState } from "./state/postgres/PostgresStateStore.ts"
export { runPlan, type RunPlanOptions } from "./runtime/runPlan.ts"
export type { RunPipelineOptions } from "./app/runPipeline.ts"
export { WorkerCannotStart } from "./app/workers/workerCannotStart.ts"
export type { WorkerAddress } from "./app/workers/workerEngine.ts"
export { defaultRunSettings, resolveRunSettings, type RunOverrides, type RunSettings } from "./runtime/runSettings.ts"
export { MirageClient } from "./mirage/MirageClient.ts"
export * as Mirage from "./mirage/MirageClient.ts"
export { makeMirageConfig, type MirageConfig } from "./mirage/mirageConfig.ts"
export * as Simulator from "./sim/Simulator.ts"
export {
  currentStateStore,
  defaultStateStore,
  fileStateStore,
  StateStore,
  type RunState,
  type StateRef,
  type StateStoreService,
  type StoredState
} from "./state/StateStore.ts"
export { postgresState, postgresStateStore } from "./state/postgres/PostgresStateStore.ts"
export { parseStateUrl, StateUrlInvalid, type PostgresLocation } from "./state/postgres/stateUrl.ts"
export { exportLockFile, type ExportedLock } from "./app/exportLock.ts"
export { perMinute, publishedQuotas, type Quotas, type Rate, type RequestKind } from "./mirage/quotas.ts"
export {
  JobSelection,
  SelectionInvalid,
  selectJobs,
  selectPlan,
  selectedPlan,
  type Selected,
  type SelectedPlan,
  type SelectionProblem
} from "./plan/selection.ts"
export { readSelectedState, type SelectedState } from "./plan/planState.ts"
export {
  pipelineLog,
  pipelineLogPromise,
  pipelineRunEvents,
  pipelineRunEventsPromise,
  type PipelineLog,
  type PipelineLogError
} from "./app/pipelineLog.ts"
export { RunEnd, RunHeader, RunHistoryUnreadable, RunNotFound, RunRecord, type RunList, type RunOutcome } from "./state/runHistory.ts"
export { ExitCodes, runExitCode } from "./app/exitCodes.ts"
export { JobResult, ResultState } from "./app/jobResult.ts"
export {
  collectResults,
  pipelineResults,
  pipelineResultsPromise,
  selectResults,
  writeResultsAfterRun,
  ResultsPathRefused,
  ResultsWriteError,
  type PipelineResultsOptions,
  type PipelineResultsError
} from "./app/results.ts"
export { formatResults, resultsToCsv, resultsToJson, resultsToJsonLines, spreadsheetSafe } from "./app/resultsFormat.ts"
export { ResultsFormat, ResultsOption } from "./pipeline/schema.ts"
export {
  defaultReportPath,
  pipelineReport,
  pipelineReportPromise,
  type ReportError,
  type ReportOptions,
  type ReportWritten
} from "./report/buildReport.ts"
export { ReportPathRefused, ReportWriteError } from "./report/reportErrors.ts"
export { reportModel, type ReportInput, type ReportModel } from "./report/reportData.ts"
export { reportHtml } from "./report/reportHtml.ts"
export { makeTimelineBuilder, runTimeline, type RunTimeline } from "./report/runTimeline.ts"

type Platform = FileSystem.FileSystem | Path.Path

/** Load, expand and check everything (inputs read, nothing sent): the plan of a valid pipeline file. */
export const validatePipeline = (file: string): Effect.Effect<Plan, PipelineInvalid, Platform> =>
  Effect.flatMap(loadPipeline(file), planPipeline)

export const loadPipelinePromise = (file: string): Promise<LoadedPipeline> => runOnNode(loadPipeline(file))
export const expandPipelinePromise = (pipeline: LoadedPipeline): Promise<ReadonlyArray<Job>> => runOnNode(expandPipeline(pipeline))
export const planPipelinePromise = (pipeline: LoadedPipeline): Promise<Plan> => runOnNode(planPipeline(pipeline))
export const validatePipelinePromise = (file: string): Promise<Plan> => runOnNode(validatePipeline(file))
/** Writes the pipeline's lock file from its state: the Promise twin of `exportLockFile` (with `state`, from that database). */
export const exportLockFilePromise = (file: string, options: { readonly state?: string } = {}): Promise<ExportedLock> =>
  runOnNode(options.state === undefined ? exportLockFile(file) : Effect.provide(exportLockFile(file), postgresState(options.state)))

/**
 * Renders a pipeline file: the Promise twin of `runPipeline`. `onEvent` receives every event as
 * it happens; the promise resolves with the summary (failed jobs are in it, not a rejection) and
 * rejects on invalid input, a missing key, or a simulator that cannot start.
 */
export const runPipelinePromise = (
  file: string,
  options: Omit<RunPipelineOptions, "emit"> & {
    readonly onEvent?: (event: RunEvent) => void
    /** The state database (`postgres://…`); default the pipeline's `state:`, else the files beside it. Needed by `worker`. */
    readonly state?: string
  }
): Promise<RunSummary> => {
  const { onEvent, state, ...rest } = options
  const run = runPipeline(file, { ...rest, emit: (event) => Effect.sync(() => onEvent?.(event)) })
  return runOnNode(state === undefined ? run : Effect.provide(run, postgresState(state)))
}
