/**
 * `clapper report` as an Effect (`pipelineReport`) and a Promise (`pipelineReportPromise`): the
 * pipeline's results now (app/results), one run's record and events from the state's run
 * history, a poster per output video (ffmpeg, cached by digest), all drawn into one HTML file,
 * written atomically where it may go (never among the outputs, never over an input or the
 * state). Sends nothing; writes only the report and the poster cache.
 */
import { FileSystem, Path } from "@effect/platform"
import type { CommandExecutor } from "@effect/platform"
import { Clock, Effect, Either, Stream } from "effect"
import type { ResultState } from "../app/jobResult.ts"
import { collectResults, writeResultsFile } from "../app/results.ts"
import { resultsPathProblem } from "../app/resultsPath.ts"
import type { PipelineInvalid } from "../pipeline/diagnostic.ts"
import { loadPipeline } from "../pipeline/load.ts"
import { planPipeline } from "../plan/plan.ts"
import { readSelectedState } from "../plan/planState.ts"
import { selectionFlags, type JobSelection, type SelectionInvalid } from "../plan/selection.ts"
import type { StateCorrupt, StateIoError } from "../state/journal.ts"
import { RunNotFound, type RunHistoryUnreadable } from "../state/runHistory.ts"
import { stateDir } from "../state/stateDir.ts"
import { currentStateStore } from "../state/StateStore.ts"
import { galleryMedia } from "./galleryMedia.ts"
import { makePosterFrames } from "./posterFrames.ts"
import { recordedRuns } from "./recordedRuns.ts"
import { countStates, reportModel } from "./reportData.ts"
import { ReportPathRefused, ReportWriteError } from "./reportErrors.ts"
import { reportHtml } from "./reportHtml.ts"
import { makeTimelineBuilder, type RunTimeline } from "./runTimeline.ts"
import { runOnNode } from "../app/onNode.ts"
import { stateRefOf } from "../pipeline/stateRef.ts"

export interface ReportOptions {
  /** Where the report goes; default `<pipeline stem>.report.html` beside the pipeline file. Relative to the current folder. */
  readonly output?: string | undefined
  /** The run to report (its number, from `clapper log`); default the latest. */
  readonly run?: number | undefined
  /** The ffmpeg binary for poster frames: default the bundled one; `false` for none (placeholders). */
  readonly ffmpeg?: string | false | undefined
  /** Posters inlined at most (default 2000, about 20 MB): beyond, tiles link to the video without one. */
  readonly maxPosters?: number | undefined
  /** Timeline rows at most (default 500). */
  readonly maxTimelineRows?: number | undefined
  /** Report only these jobs (`--only`, `--set`, `--limit`, `--retry-failed`); default all. */
  readonly select?: JobSelection | undefined
}

export interface ReportWritten {
  /** The report's absolute path. */
  readonly path: string
  /** The run it reports, when one is recorded. */
  readonly run: number | undefined
  readonly jobs: number
  readonly counts: Readonly<Record<ResultState, number>>
  /** Posters shown: taken now, from the cache; tiles with a placeholder instead. */
  readonly posters: { readonly made: number; readonly cached: number; readonly placeholders: number }
  /** What the reader should know (a video ffmpeg could not read, no ffmpeg at all). */
  readonly warnings: ReadonlyArray<string>
}

export type ReportError =
  | PipelineInvalid
  | SelectionInvalid
  | StateCorrupt
  | StateIoError
  | RunHistoryUnreadable
  | RunNotFound
  | ReportPathRefused
  | ReportWriteError

export const defaultMaxPosters = 2000

/** The default report path: beside the pipeline, named after it. */
export const defaultReportPath = (pipelineFile: string, path: Path.Path): string => {
  const ext = path.extname(pipelineFile)
  return path.join(path.dirname(pipelineFile), `${path.basename(pipelineFile, ext)}.report.html`)
}

export const pipelineReport = (
  file: string,
  options: ReportOptions = {}
): Effect.Effect<ReportWritten, ReportError, FileSystem.FileSystem | Path.Path | CommandExecutor.CommandExecutor> =>
  Effect.gen(function* () {
    const path = yield* Path.Path
    const pipeline = yield* loadPipeline(file)
    const plan = yield* planPipeline(pipeline)

    const shown = options.output ?? defaultReportPath(file, path)
    const target = path.resolve(shown)
    const refused = yield* resultsPathProblem(
      pipeline,
      plan.jobs.map((j) => j.job),
      target,
      { noun: "a report", example: "report.html" }
    )
    if (refused !== undefined) return yield* Effect.fail(new ReportPathRefused({ path: shown, reason: refused }))

    const ref = stateRefOf(pipeline)
    const store = yield* currentStateStore
    // Every job's result (a job's state depends on the others sharing its render), then the selected ones.
    const selection = yield* readSelectedState(pipeline, plan, options.select)
    const { stored } = selection
    const selectedIds = new Set(selection.selected.jobs.map((j) => j.id))
    const results = (yield* collectResults(pipeline, plan, stored)).filter((r) => selection.selected.everything || selectedIds.has(r.job))

    // The run: the one asked for, else the latest; its events folded into a timeline as they stream.
    const history = recordedRuns(store, ref)
    const { runs, warnings: historyWarnings } = yield* history.runs
    const chosen = options.run === undefined ? runs.at(-1) : runs.find((r) => r.n === options.run)
    if (options.run !== undefined && chosen === undefined) {
      return yield* Effect.fail(new RunNotFound({ pipeline: file, n: options.run, recorded: runs.map((r) => r.n) }))
    }
    let timeline: RunTimeline | undefined
    if (chosen !== undefined) {
      const builder = makeTimelineBuilder({ spokenJobs: new Set(plan.jobs.filter((j) => j.stages.speech).map((j) => j.id)) })
      yield* Stream.runForEach(history.events(chosen.n), (event) => Effect.sync(() => builder.add(event)))
      const all = builder.result()
      timeline = selection.selected.everything ? all : { ...all, rows: all.rows.filter((row) => selectedIds.has(row.job)) }
    }

    // A poster per video on disk, by its digest.
    const frames = yield* makePosterFrames({
      cacheDir: path.join(stateDir(pipeline.dir, pipeline.spec.name, path), "posters"),
      ffmpeg: options.ffmpeg
    })
    const gallery = yield* galleryMedia(results, {
      projectRoot: pipeline.projectRoot,
      reportDir: path.dirname(target),
      lock: stored.lock,
      frames,
      maxPosters: options.maxPosters ?? defaultMaxPosters
    })
    const warnings = [...stored.warnings, ...historyWarnings, ...gallery.warnings]

    const generatedAt = new Date(yield* Clock.currentTimeMillis).toISOString()
    const model = reportModel({
      pipeline: { name: pipeline.spec.name, description: pipeline.spec.description, file },
      generatedAt,
      results,
      estimatedCostUsd: selection.plan.totals.estimatedCostUsd,
      spentUsd: selection.state.spentUsd,
      selection: selection.selected.everything
        ? undefined
        : {
            jobs: results.length,
            of: plan.jobs.length,
            flags: selectionFlags(options.select ?? {}),
            nothingFailed: selection.selected.nothingFailed
          },
      run: chosen !== undefined && timeline !== undefined ? { record: chosen, runCount: runs.length, timeline } : undefined,
      media: gallery.media,
      maxTimelineRows: options.maxTimelineRows,
      warnings
    })
    yield* writeResultsFile(target, reportHtml(model)).pipe(Effect.mapError((e) => new ReportWriteError({ path: shown, reason: e.reason })))
    return {
      path: target,
      run: chosen?.n,
      jobs: results.length,
      counts: countStates(results),
      posters: gallery.posters,
      warnings
    }
  })

/** The Promise twin of `pipelineReport`; rejects with the same typed error. */
export const pipelineReportPromise = (file: string, options: ReportOptions = {}): Promise<ReportWritten> =>
  runOnNode(pipelineReport(file, options))
