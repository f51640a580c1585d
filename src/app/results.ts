/**
 * The results table: one `JobResult` per job, in plan order, joined from the plan (set, index,
 * the data row, duration, cost), the state (video id, share link, attempts, last error, from the
 * journal and the lock file) and the files on disk (an output deleted or changed since its run is
 * "missing"). Read without taking the runner lock or writing anything; `clapper results`, the
 * library and the HTML report all read it from here, and a pipeline's `results:` writes it after
 * every run.
 */
import { FileSystem, Path } from "@effect/platform"
import { Effect, Either, Random, Schema } from "effect"
import { PipelineInvalid, type Diagnostic } from "../pipeline/diagnostic.ts"
import type { Job } from "../pipeline/job.ts"
import { loadPipeline, type LoadedPipeline } from "../pipeline/load.ts"
import type { ResultsFormat } from "../pipeline/schema.ts"
import { locate } from "../pipeline/yamlSource.ts"
import { planPipeline, type Plan, type PlannedJob } from "../plan/plan.ts"
import { selectJobs, selectsEverything, type JobSelection, type SelectionInvalid } from "../plan/selection.ts"
import { resumeState, type JobState, type RenderStart } from "../plan/resume.ts"
import type { StateCorrupt, StateIoError } from "../state/journal.ts"
import type { RenderRecord } from "../state/journalEntry.ts"
import { currentStateStore, type StoredState } from "../state/StateStore.ts"
import type { JobResult, ResultState } from "./jobResult.ts"
import { formatForPath, formatResults } from "./resultsFormat.ts"
import { resultsPathProblem } from "./resultsPath.ts"
import { runOnNode } from "./onNode.ts"
import { stateRefOf } from "../pipeline/stateRef.ts"

/** What the results are drawn from besides the plan: the journal and the lock file as they are now. */
export type ResultsState = Pick<StoredState, "journal" | "lock">

/** The data row's columns in the data file's order (not the row's keys: an object puts "2024" before "id"). */
const rowOf = (job: Job): ReadonlyArray<readonly [string, string]> | undefined => {
  const row = job.row
  if (row === undefined) return undefined
  return (job.rowColumns ?? Object.keys(row)).map((column) => [column, row[column] ?? ""] as const)
}

/** What the lock file or the journal recorded of this job's own output, for its current fingerprint. */
const recordedOutput = (job: PlannedJob, state: ResultsState): { readonly videoId: string } | undefined => {
  const entry = state.lock.outputs[job.id]
  if (entry !== undefined && entry.fingerprint === job.fingerprint) return { videoId: entry.videoId }
  const seen = state.journal.outputs.get(job.id)
  if (seen !== undefined && seen.fp === job.fingerprint) return { videoId: seen.videoId }
  return undefined
}

const resultState = (job: JobState | undefined, start: RenderStart | undefined, recorded: boolean): ResultState => {
  if (job?.name === "up-to-date") return "done"
  // Delivered for these inputs once, and not on disk as it was: deleted or changed since.
  if (recorded) return "missing"
  switch (job?.name) {
    case "failed":
      return "failed"
    case "in-flight":
      // A file to copy from another output is nothing at the provider: still to do (for free).
      return start?._tag === "FromFile" ? "to-do" : "in-flight"
    default:
      return "to-do"
  }
}

const resultOf = (job: PlannedJob, jobState: JobState | undefined, start: RenderStart | undefined, state: ResultsState): JobResult => {
  const records = state.journal.renders
  const recorded = recordedOutput(job, state)
  const name = resultState(jobState, start, recorded !== undefined)
  const final = records.get(job.fingerprint)
  const videoId =
    name === "done"
      ? (jobState?.videoId ?? recorded?.videoId)
      : name === "missing"
        ? recorded?.videoId
        : name === "to-do"
          ? undefined
          : (jobState?.videoId ?? final?.videoId)
  // The share link of the video shown: the job's last stage (captions, else the generation).
  const stages = [job.fingerprint, job.stages.captions?.fingerprint, job.stages.video]
  const shareLinkUrl =
    videoId === undefined
      ? undefined
      : stages
          .map((fp) => (fp === undefined ? undefined : records.get(fp)))
          .find((r): r is RenderRecord => r?.videoId === videoId && r.shareLinkUrl !== undefined)?.shareLinkUrl
  // Videos the provider accepted for the generation (each paid for); a lock entry proves one.
  const generation = records.get(job.stages.video)
  const counted = generation?.renders ?? (generation?.videoId !== undefined ? 1 : 0)
  const attempts = name === "done" || name === "missing" ? Math.max(1, counted) : counted
  const error = name !== "done" && final?.status === "failed" ? final.error : undefined
  const row = rowOf(job.job)
  return {
    job: job.id,
    set: job.set,
    index: job.index,
    ...(row !== undefined ? { row } : {}),
    output: job.id,
    state: name,
    ...(videoId !== undefined ? { videoId } : {}),
    ...(shareLinkUrl !== undefined ? { shareLinkUrl } : {}),
    durationSeconds: job.durationSeconds,
    estimatedCostUsd: job.estimatedCostUsd,
    attempts,
    ...(error !== undefined
      ? { error: { step: error.step, reason: error.reason, ...(error.code !== undefined ? { code: error.code } : {}) } }
      : {})
  }
}

/**
 * Every job's result, in plan order (`plan` is `pipeline`'s). Reads the outputs on disk (size
 * and time, else digest); writes nothing.
 */
export const collectResults = (
  pipeline: LoadedPipeline,
  plan: Plan,
  state: ResultsState
): Effect.Effect<ReadonlyArray<JobResult>, never, FileSystem.FileSystem> =>
  Effect.gen(function* () {
    const resumption = yield* resumeState(plan, state.journal, state.lock)
    const starts = new Map<string, RenderStart>()
    for (const render of resumption.renders) for (const job of render.needing) starts.set(job.id, render.start)
    return plan.jobs.map((job) => resultOf(job, resumption.jobs.get(job.id), starts.get(job.id), state))
  })

export interface PipelineResultsOptions {
  /** The results of these jobs only (`--only`, `--set`, `--limit`, `--retry-failed`: failed = state "failed"). */
  readonly select?: JobSelection | undefined
}

export type PipelineResultsError = PipelineInvalid | SelectionInvalid | StateCorrupt | StateIoError

/**
 * The results of the jobs `selection` chooses. Applied to the results of the whole plan, not to
 * the plan: a job's state still sees the outputs of the jobs it shares a render with.
 */
export const selectResults = (
  plan: Plan,
  results: ReadonlyArray<JobResult>,
  selection: JobSelection | undefined
): Either.Either<ReadonlyArray<JobResult>, SelectionInvalid> => {
  if (selectsEverything(selection)) return Either.right(results)
  const failed = new Set(results.filter((r) => r.state === "failed").map((r) => r.job))
  return Either.map(selectJobs(plan.jobs, selection, failed), (selected) => {
    const ids = new Set(selected.jobs.map((j) => j.id))
    return results.filter((r) => ids.has(r.job))
  })
}

/** A pipeline file's results now: load, plan, read the state, join. Sends and writes nothing. */
export const pipelineResults = (
  file: string,
  options: PipelineResultsOptions = {}
): Effect.Effect<ReadonlyArray<JobResult>, PipelineResultsError, FileSystem.FileSystem | Path.Path> =>
  Effect.gen(function* () {
    const pipeline = yield* loadPipeline(file)
    const plan = yield* planPipeline(pipeline)
    const store = yield* currentStateStore
    const stored = yield* store.read(stateRefOf(pipeline))
    return yield* selectResults(plan, yield* collectResults(pipeline, plan, stored), options.select)
  })

/** The Promise twin of `pipelineResults`; rejects with the same typed error. */
export const pipelineResultsPromise = (file: string, options: PipelineResultsOptions = {}): Promise<ReadonlyArray<JobResult>> =>
  runOnNode(pipelineResults(file, options))

/** The results may not be written where they were asked to go. */
export class ResultsPathRefused extends Schema.TaggedError<ResultsPathRefused>()("ResultsPathRefused", {
  /** As the user gave it. */
  path: Schema.String,
  reason: Schema.String
}) {
  override get message() {
    return `results path "${this.path}" ${this.reason}`
  }
}

/** The results file could not be written (a full disk, a read-only folder). */
export class ResultsWriteError extends Schema.TaggedError<ResultsWriteError>()("ResultsWriteError", {
  path: Schema.String,
  reason: Schema.String
}) {
  override get message() {
    return `cannot write the results to ${this.path}: ${this.reason}`
  }
}

/** Refuses `target` (absolute; `shown` as the user gave it) when the results may not go there. */
export const checkResultsPath = (
  pipeline: LoadedPipeline,
  plan: Plan,
  target: string,
  shown: string
): Effect.Effect<void, ResultsPathRefused, FileSystem.FileSystem | Path.Path> =>
  Effect.flatMap(
    resultsPathProblem(
      pipeline,
      plan.jobs.map((j) => j.job),
      target
    ),
    (reason) => (reason === undefined ? Effect.void : Effect.fail(new ResultsPathRefused({ path: shown, reason })))
  )

/**
 * Writes `text` at `target` all at once: into a temporary file beside it, synced, then renamed
 * over it, so a reader (a spreadsheet, a CI step) never sees half a table.
 */
export const writeResultsFile = (target: string, text: string): Effect.Effect<void, ResultsWriteError, FileSystem.FileSystem | Path.Path> =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const temp = path.join(path.dirname(target), `.${path.basename(target)}.${(yield* Random.nextInt).toString(36).replace("-", "")}.tmp`)
    const write = Effect.gen(function* () {
      yield* fs.makeDirectory(path.dirname(target), { recursive: true })
      yield* Effect.scoped(
        Effect.gen(function* () {
          const file = yield* fs.open(temp, { flag: "w" })
          yield* file.writeAll(new TextEncoder().encode(text))
          yield* file.sync
        })
      )
      yield* fs.rename(temp, target)
    })
    yield* write.pipe(
      Effect.tapError(() => Effect.ignore(fs.remove(temp))),
      Effect.mapError((e) => new ResultsWriteError({ path: target, reason: e.message }))
    )
  })

/** The pipeline's `results:` option: where (absolute, and as written) and in which format. */
const resultsOption = (pipeline: LoadedPipeline, path: Path.Path) => {
  const option = pipeline.spec.results
  if (option === undefined) return undefined
  const format: ResultsFormat = option.format ?? formatForPath(option.path)
  return { target: path.resolve(pipeline.dir, option.path), shown: option.path, format }
}

/**
 * The `results:` option's path checked like an output's, as a diagnostic at its place in the
 * file: for `validate`, `plan` and `run` to report before anything is sent.
 */
export const resultsOptionDiagnostics = (
  pipeline: LoadedPipeline,
  jobs: ReadonlyArray<Job>
): Effect.Effect<ReadonlyArray<Diagnostic>, never, FileSystem.FileSystem | Path.Path> =>
  Effect.gen(function* () {
    const option = resultsOption(pipeline, yield* Path.Path)
    if (option === undefined) return []
    const reason = yield* resultsPathProblem(pipeline, jobs, option.target)
    if (reason === undefined) return []
    const at = locate(pipeline.source, ["results", "path"])
    return [{ file: pipeline.source.file, ...at, message: `results path "${option.shown}" ${reason}` }]
  })

/** Fails with the `results:` option's problem, as `PipelineInvalid`: before a run pays for anything. */
export const refuseBadResultsOption = (
  pipeline: LoadedPipeline,
  plan: Plan
): Effect.Effect<void, PipelineInvalid, FileSystem.FileSystem | Path.Path> =>
  Effect.flatMap(
    resultsOptionDiagnostics(
      pipeline,
      plan.jobs.map((j) => j.job)
    ),
    (diagnostics) => (diagnostics.length === 0 ? Effect.void : Effect.fail(new PipelineInvalid({ diagnostics })))
  )

/**
 * After a run: the results table written where the pipeline's `results:` says, from the state as
 * the run left it (pass the run's live journal and its lock as the recorder holds it: nothing is
 * read back from disk). Answers the file written, or undefined when the pipeline asks for none.
 */
export const writeResultsAfterRun = (
  pipeline: LoadedPipeline,
  plan: Plan,
  state: ResultsState
): Effect.Effect<string | undefined, ResultsPathRefused | ResultsWriteError, FileSystem.FileSystem | Path.Path> =>
  Effect.gen(function* () {
    const option = resultsOption(pipeline, yield* Path.Path)
    if (option === undefined) return undefined
    yield* checkResultsPath(pipeline, plan, option.target, option.shown)
    const results = yield* collectResults(pipeline, plan, state)
    yield* writeResultsFile(option.target, formatResults(results, option.format))
    return option.target
  })
