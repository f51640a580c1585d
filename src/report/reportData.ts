/**
 * The report's model, from what is known of a pipeline: its results (one per job, the state now),
 * one run's timeline (from its events) and record, and each output's poster and link. Pure: every
 * file has been read before, so the same inputs give the same report, and a test can build one
 * from a captured run.
 */
import type { JobResult, ResultState } from "../app/jobResult.ts"
import { failureAdvice } from "./failureAdvice.ts"
import type { Interval, RunTimeline, SegmentKind, TimelineRow } from "./runTimeline.ts"

/** One run as the state recorded it. */
export interface ReportRun {
  /** Its number, from 1. */
  readonly n: number
  readonly startedAt: string
  readonly finishedAt?: string | undefined
  /** The command line as typed (`clapper run pipelines/outreach.yaml --sim`). */
  readonly command: string
  /** How it ended, in words (`finished`, `interrupted`, `killed before it finished`). */
  readonly ended?: string | undefined
  /** Who ran it, where (`ada@build-7`). */
  readonly who?: string | undefined
  /** Its estimated spend, as its end recorded it. */
  readonly spentUsd?: number | undefined
}

/** What the gallery shows for a job. */
export type Poster =
  /** A frame of the video, JPEG bytes in base64. */
  | { readonly _tag: "Frame"; readonly jpegBase64: string }
  /** The video is there but no frame could be taken (no ffmpeg, or it could not read the file). */
  | { readonly _tag: "NoFrame"; readonly reason: string }
  /** Left out to keep a large report small (see `maxPosters`). */
  | { readonly _tag: "Omitted" }
  /** Rendered, but the file was deleted since. */
  | { readonly _tag: "MissingFile" }
  /** Rendered, but the file on disk is not the one the run wrote (replaced or edited since). */
  | { readonly _tag: "ChangedFile" }
  /** No video yet (failed, in flight, to do). */
  | { readonly _tag: "NoVideo" }

export interface GalleryMedia {
  /** The output, relative to the report's folder, percent-encoded (see `fileHref`). */
  readonly href: string
  readonly poster: Poster
}

export interface ReportInput {
  readonly pipeline: { readonly name: string; readonly description?: string | undefined; readonly file: string }
  readonly generatedAt: string
  /** Every job's result, in plan order. */
  readonly results: ReadonlyArray<JobResult>
  /** The campaign's estimate: each distinct render once. */
  readonly estimatedCostUsd: number
  /** Spend recorded so far, every run and possible duplicate included. */
  readonly spentUsd: number
  /** The run reported, and how many runs there are; absent when the pipeline was never run (or its runs were not recorded). */
  readonly run?: { readonly record: ReportRun; readonly runCount: number; readonly timeline: RunTimeline } | undefined
  /** By job id. A job without an entry shows no link. */
  readonly media: ReadonlyMap<string, GalleryMedia>
  /** Rows of the timeline at most (default 500): a larger run shows the rows that matter most, and says so. */
  readonly maxTimelineRows?: number | undefined
  /** Things the reader should know (a poster that could not be made). */
  readonly warnings?: ReadonlyArray<string> | undefined
  /** When only some jobs are reported: how many of how many, and the selectors as typed. */
  readonly selection?: ReportSelection | undefined
}

export interface ReportSelection {
  readonly jobs: number
  readonly of: number
  /** `--set hero --limit 3`. */
  readonly flags: string
  /** `--retry-failed` found no job that failed last time. */
  readonly nothingFailed: boolean
}

export const defaultMaxTimelineRows = 500

export interface QuotaWaits {
  /** Time the run was held back by the provider's quota (run.throttled, overlaps counted once). */
  readonly throttledMs: number
  readonly throttles: number
  /** Jobs' waits after a 429 (job.retrying with throttled). */
  readonly jobWaits: number
  readonly jobWaitMs: number
}

export interface ReportSummary {
  readonly jobs: number
  readonly counts: Readonly<Record<ResultState, number>>
  readonly estimatedCostUsd: number
  readonly spentUsd: number
  /** This run's estimated spend (from its summary). */
  readonly runSpentUsd: number | undefined
  readonly durationMs: number | undefined
  readonly quota: QuotaWaits | undefined
  readonly outageMs: number | undefined
  readonly retries: number | undefined
  readonly duplicateRisks: number | undefined
}

export interface RunInfo extends ReportRun {
  readonly runCount: number
  readonly durationMs: number
}

export interface TimelineRowView extends TimelineRow {
  /** The job's state now (absent for a job no longer in the pipeline). */
  readonly state: ResultState | undefined
}

export interface TimelineView {
  readonly startMs: number
  /** At least 1 ms, so positions are defined. */
  readonly spanMs: number
  /** Axis ticks, in ms from the start. */
  readonly ticks: ReadonlyArray<number>
  readonly rows: ReadonlyArray<TimelineRowView>
  readonly totalRows: number
  readonly throttled: ReadonlyArray<Interval>
  readonly outages: ReadonlyArray<Interval>
  /** The kinds of span that occur, in legend order. */
  readonly kinds: ReadonlyArray<SegmentKind>
}

export interface GalleryTile {
  readonly job: string
  readonly set: string
  readonly index: number
  readonly state: ResultState
  readonly output: string
  readonly href: string | undefined
  readonly poster: Poster
  readonly videoId: string | undefined
  readonly durationSeconds: number
  readonly error: JobResult["error"]
}

export interface FailureGroup {
  readonly step: string
  readonly code: string | undefined
  readonly count: number
  /** Distinct reasons, the most frequent first (at most 3). */
  readonly reasons: ReadonlyArray<string>
  /** The jobs, at most `maxJobsPerGroup`; `more` says how many were left out. */
  readonly jobs: ReadonlyArray<string>
  readonly more: number
  readonly advice: string
}

export interface ReportModel {
  readonly pipeline: ReportInput["pipeline"]
  readonly selection: ReportSelection | undefined
  readonly generatedAt: string
  readonly run: RunInfo | undefined
  readonly summary: ReportSummary
  readonly timeline: TimelineView | undefined
  readonly gallery: {
    readonly tiles: ReadonlyArray<GalleryTile>
    readonly sets: ReadonlyArray<string>
    readonly states: ReadonlyArray<ResultState>
  }
  readonly failures: ReadonlyArray<FailureGroup>
  readonly warnings: ReadonlyArray<string>
}

/** States in the order the report names them. */
export const resultStates: ReadonlyArray<ResultState> = ["done", "failed", "in-flight", "to-do", "missing"]

/** Kinds of span in the legend's order (the order of a job's life). */
export const segmentKinds: ReadonlyArray<SegmentKind> = [
  "waiting",
  "speech",
  "submit",
  "queued",
  "rendering",
  "captions",
  "overlays",
  "download",
  "retry",
  "quota"
]

const maxJobsPerGroup = 20

/** Axis steps people read at a glance. */
const tickSteps = [
  1_000, 2_000, 5_000, 10_000, 15_000, 30_000, 60_000, 120_000, 300_000, 600_000, 900_000, 1_800_000, 3_600_000, 7_200_000, 10_800_000,
  21_600_000, 43_200_000, 86_400_000, 172_800_000, 604_800_000
]

/** Ticks at a round step, about 5 to 10 of them. */
export const axisTicks = (spanMs: number): ReadonlyArray<number> => {
  const step = tickSteps.find((s) => spanMs / s <= 10) ?? Math.ceil(spanMs / 10 / 86_400_000) * 86_400_000
  const ticks: Array<number> = []
  for (let t = 0; t <= spanMs; t += step) ticks.push(t)
  return ticks
}

export const countStates = (results: ReadonlyArray<JobResult>): Record<ResultState, number> => {
  const counts: Record<ResultState, number> = { done: 0, failed: 0, "in-flight": 0, "to-do": 0, missing: 0 }
  for (const r of results) counts[r.state]++
  return counts
}

/** A row worth showing when there are too many: something happened to it. */
const eventful = (row: TimelineRowView): boolean =>
  row.outcome !== "completed" || row.marks.length > 0 || row.state === "failed" || row.state === "missing"

const timelineView = (timeline: RunTimeline, results: ReadonlyArray<JobResult>, maxRows: number): TimelineView => {
  const order = new Map(results.map((r, i) => [r.job, i]))
  const stateOf = new Map(results.map((r) => [r.job, r.state]))
  const rows = timeline.rows
    .map((row): TimelineRowView => ({ ...row, state: stateOf.get(row.job) }))
    // Plan order; jobs no longer in the pipeline after them, as the run saw them.
    .map((row, seen) => ({ row, at: order.get(row.job) ?? results.length + seen }))
    .sort((a, b) => a.at - b.at)
  let shown = rows
  if (rows.length > maxRows) {
    const first = rows.filter(({ row }) => eventful(row)).slice(0, maxRows)
    const rest = rows.filter(({ row }) => !eventful(row)).slice(0, maxRows - first.length)
    shown = [...first, ...rest].sort((a, b) => a.at - b.at)
  }
  const spanMs = Math.max(1, timeline.endMs - timeline.startMs)
  const present = new Set(rows.flatMap(({ row }) => row.segments.map((s) => s.kind)))
  return {
    startMs: timeline.startMs,
    spanMs,
    ticks: axisTicks(spanMs),
    rows: shown.map(({ row }) => row),
    totalRows: rows.length,
    throttled: timeline.throttled,
    outages: timeline.outages,
    kinds: segmentKinds.filter((k) => present.has(k))
  }
}

const failureGroups = (results: ReadonlyArray<JobResult>, pipelineFile: string): ReadonlyArray<FailureGroup> => {
  const groups = new Map<string, { step: string; code: string | undefined; jobs: Array<string>; reasons: Map<string, number> }>()
  for (const r of results) {
    if (r.state !== "failed") continue
    const step = r.error?.step ?? "unknown"
    const code = r.error?.code
    const key = `${step}\u0000${code ?? ""}`
    let group = groups.get(key)
    if (group === undefined) {
      group = { step, code, jobs: [], reasons: new Map() }
      groups.set(key, group)
    }
    group.jobs.push(r.job)
    const reason = r.error?.reason ?? "no reason was recorded"
    group.reasons.set(reason, (group.reasons.get(reason) ?? 0) + 1)
  }
  return [...groups.values()]
    .sort((a, b) => b.jobs.length - a.jobs.length)
    .map((g) => ({
      step: g.step,
      code: g.code,
      count: g.jobs.length,
      reasons: [...g.reasons.entries()]
        .sort((a, b) => b[1] - a[1])
        .slice(0, 3)
        .map(([reason]) => reason),
      jobs: g.jobs.slice(0, maxJobsPerGroup),
      more: Math.max(0, g.jobs.length - maxJobsPerGroup),
      advice: failureAdvice(g.step, g.code, pipelineFile)
    }))
}

const durationOf = (record: ReportRun, timeline: RunTimeline): number => {
  const start = Date.parse(record.startedAt)
  const end = record.finishedAt === undefined ? Number.NaN : Date.parse(record.finishedAt)
  return Number.isNaN(start) || Number.isNaN(end) ? Math.max(0, timeline.endMs - timeline.startMs) : Math.max(0, end - start)
}

/** A job's tile when no poster was looked for. */
const posterWithoutMedia = (state: ResultState): Poster =>
  state === "done" ? { _tag: "Omitted" } : state === "missing" ? { _tag: "MissingFile" } : { _tag: "NoVideo" }

export const reportModel = (input: ReportInput): ReportModel => {
  const { results, run } = input
  const timeline = run?.timeline
  const durationMs = run ? durationOf(run.record, run.timeline) : undefined
  const sets = [...new Set(results.map((r) => r.set))]
  const counts = countStates(results)
  const tiles = results.map(
    (r): GalleryTile => ({
      job: r.job,
      set: r.set,
      index: r.index,
      state: r.state,
      output: r.output,
      href: input.media.get(r.job)?.href,
      poster: input.media.get(r.job)?.poster ?? posterWithoutMedia(r.state),
      videoId: r.videoId,
      durationSeconds: r.durationSeconds,
      error: r.error
    })
  )
  return {
    pipeline: input.pipeline,
    selection: input.selection,
    generatedAt: input.generatedAt,
    run: run ? { ...run.record, runCount: run.runCount, durationMs: durationMs ?? 0 } : undefined,
    summary: {
      jobs: results.length,
      counts,
      estimatedCostUsd: input.estimatedCostUsd,
      spentUsd: input.spentUsd,
      runSpentUsd: timeline?.summary?.spentUsd ?? run?.record.spentUsd,
      durationMs,
      quota: timeline
        ? {
            throttledMs: timeline.throttledMs,
            throttles: timeline.throttled.length,
            jobWaits: timeline.quotaWaits.count,
            jobWaitMs: timeline.quotaWaits.totalMs
          }
        : undefined,
      outageMs: timeline?.outageMs,
      retries: timeline?.retries,
      duplicateRisks: timeline?.duplicateRisks
    },
    timeline: timeline ? timelineView(timeline, results, input.maxTimelineRows ?? defaultMaxTimelineRows) : undefined,
    gallery: { tiles, sets, states: resultStates.filter((s) => counts[s] > 0) },
    failures: failureGroups(results, input.pipeline.file),
    warnings: [...(timeline?.warnings ?? []), ...(input.warnings ?? [])]
  }
}
