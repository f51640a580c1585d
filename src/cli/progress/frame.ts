/**
 * The live display's frame, as text, from the display state at an instant. Pure: the renderer
 * supplies the time, the width and whether to colour.
 *
 *     spring-launch  [#######!............]  8/20 jobs  ETA 2m10s  elapsed 1m27s
 *     7 done, 1 failed, 4 in flight, 8 queued  spent ~$3.60 of ~$9.00
 *       renders/hero.mp4               rendering 42%   1m03s
 *       renders/locales/alice--fr.mp4  retrying in 4s    12s
 *       … and 2 more in flight
 */
import { usd } from "../table.ts"
import { countsOf, type DisplayState, type JobView, jobsInFlight } from "./displayState.ts"
import { colourPalette, padEnd, type Palette, plainPalette, truncateEnd, truncateStart, visibleWidth } from "./terminalText.ts"
import { formatDuration, formatWait } from "./timeText.ts"

export interface FrameOptions {
  /** The current time (epoch millis). */
  readonly now: number
  /** The terminal's width: no line is longer. */
  readonly columns: number
  /** Colour (ANSI); false under `NO_COLOR`. */
  readonly color: boolean
  /** Job lines shown before "… and N more" (default 12). */
  readonly maxJobLines?: number
}

export const DEFAULT_MAX_JOB_LINES = 12

/**
 * What is left of the run, at least: the renders still to submit at the quota's pace, then the
 * last one's render; or the jobs left, `concurrency` at a time, at the time a job has taken so
 * far — whichever is longer. Before any job finished, the quota's part alone (undefined when the
 * quota does not bound the run either).
 */
export const estimateRemainingMs = (state: DisplayState, now: number): number | undefined => {
  const counts = countsOf(state)
  const finished = counts.done + counts.failed + counts.detached
  if (state.startedAtMs === undefined) return undefined
  const remaining = Math.max(0, counts.total - finished)
  if (remaining === 0 && finished > 0) return 0
  const spacing = state.renders > 0 ? state.minimumDurationMs / state.renders : 0
  const byQuota = Math.max(0, state.renders - state.submittedRenders) * spacing
  const perJob = state.finishedJobMs.count > 0 ? state.finishedJobMs.total / state.finishedJobMs.count : undefined
  if (perJob === undefined) return byQuota > 0 ? byQuota : undefined
  const byConcurrency = Math.ceil(remaining / Math.max(1, state.concurrency)) * perJob
  return Math.max(byQuota + (remaining > 0 ? perJob : 0), byConcurrency)
}

/** Elapsed time of the run: up to now, or to its end once it finished. */
export const runElapsedMs = (state: DisplayState, now: number): number =>
  state.startedAtMs === undefined ? 0 : Math.max(0, (state.finished?.atMs ?? now) - state.startedAtMs)

const barWidth = (columns: number): number => Math.min(30, Math.max(10, Math.floor(columns / 4)))

const formatBar = (state: DisplayState, columns: number, palette: Palette, color: boolean): string => {
  const counts = countsOf(state)
  const width = barWidth(columns)
  const total = Math.max(1, counts.total)
  const doneCells = Math.round((counts.done / total) * width)
  const endedCells = Math.round(((counts.done + counts.failed + counts.detached) / total) * width)
  const badCells = Math.max(0, endedCells - doneCells)
  const restCells = Math.max(0, width - doneCells - badCells)
  const [doneChar, badChar, restChar] = color ? ["█", "█", "░"] : ["#", "!", "."]
  return `[${palette.green(doneChar.repeat(doneCells))}${palette.red(badChar.repeat(badCells))}${palette.dim(restChar.repeat(restCells))}]`
}

/** The step a job in flight is at, as the job line shows it. */
export const formatJobStep = (view: JobView, now: number): string => {
  switch (view.phase) {
    case "submitting":
      return view.attempt > 1 ? `submitting (attempt ${view.attempt})` : "submitting"
    case "rendering":
      if (view.status === "QUEUED") return "queued at the provider"
      return view.progress === null ? "rendering" : `rendering ${Math.round(view.progress)}%`
    case "downloading":
      return "downloading"
    case "retrying":
      return `retrying in ${formatWait((view.retry?.untilMs ?? now) - now)}`
    default:
      return view.phase
  }
}

/** The first of `variants` (longest first) that fits in `columns`, else the last one cut to fit. */
const firstFitting = (variants: ReadonlyArray<string>, columns: number): string =>
  variants.find((variant) => visibleWidth(variant) <= columns) ?? truncateEnd(variants.at(-1) ?? "", columns)

const formatCounts = (state: DisplayState, palette: Palette, columns: number): string => {
  const tally = countsOf(state)
  const parts = [
    `${tally.done} done`,
    tally.failed > 0 ? palette.red(`${tally.failed} failed`) : `${tally.failed} failed`,
    ...(tally.detached > 0 ? [palette.yellow(`${tally.detached} detached`)] : []),
    `${tally.inFlight} in flight`,
    `${tally.queued} queued`
  ]
  const counts = parts.join(", ")
  return firstFitting([`${counts}  spent ~${usd(state.spentUsd)} of ~${usd(state.estimatedCostUsd)}`, counts], columns)
}

const formatJobLines = (state: DisplayState, options: FrameOptions, palette: Palette): ReadonlyArray<string> => {
  const inFlight = jobsInFlight(state)
  const max = Math.max(1, options.maxJobLines ?? DEFAULT_MAX_JOB_LINES)
  const shown = inFlight.length > max ? inFlight.slice(0, max) : inFlight
  const rows = shown.map((view) => ({
    view,
    step: formatJobStep(view, options.now),
    elapsed: formatDuration(view.startedAtMs === undefined ? 0 : options.now - view.startedAtMs)
  }))
  const stepWidth = Math.max(0, ...rows.map((row) => row.step.length))
  const elapsedWidth = Math.max(0, ...rows.map((row) => row.elapsed.length))
  const longestJob = Math.max(0, ...rows.map((row) => visibleWidth(row.view.job)))
  // The job's path gives way first (keeping its file name); a very narrow terminal cuts the end too.
  const jobWidth = Math.min(longestJob, Math.max(12, options.columns - (2 + 2 + stepWidth + 2 + elapsedWidth)))
  const lines = rows.map((row) => {
    const step = row.view.phase === "retrying" ? palette.yellow(padEnd(row.step, stepWidth)) : padEnd(row.step, stepWidth)
    return `  ${padEnd(truncateStart(row.view.job, jobWidth), jobWidth)}  ${step}  ${row.elapsed.padStart(elapsedWidth)}`
  })
  const hidden = inFlight.length - shown.length
  return hidden > 0 ? [...lines, `  … and ${hidden} more in flight`] : lines
}

/** The frame's lines, none wider than `options.columns`. */
export const formatFrame = (state: DisplayState, options: FrameOptions): ReadonlyArray<string> => {
  const palette = options.color ? colourPalette : plainPalette
  const counts = countsOf(state)
  const ended = counts.done + counts.failed + counts.detached
  const eta = estimateRemainingMs(state, options.now)
  const bar = `${formatBar(state, options.columns, palette, options.color)}  ${ended}/${counts.total} ${counts.total === 1 ? "job" : "jobs"}`
  const etaText = state.finished
    ? state.finished.summary.interrupted
      ? "interrupted"
      : "finished"
    : `ETA ${eta === undefined ? "—" : formatDuration(eta)}`
  const elapsed = `elapsed ${formatDuration(runElapsedMs(state, options.now))}`
  // A narrow terminal loses the pipeline's name first, then the elapsed time.
  const header = firstFitting(
    [
      ...(state.pipeline === "" ? [] : [`${state.pipeline}  ${bar}  ${etaText}  ${elapsed}`]),
      `${bar}  ${etaText}  ${elapsed}`,
      `${bar}  ${etaText}`
    ],
    options.columns
  )
  const notes: Array<string> = []
  if (state.throttledUntilMs !== undefined && state.throttledUntilMs > options.now && state.finished === undefined) {
    notes.push(palette.yellow(`rate limited by the provider: requests resume in ${formatWait(state.throttledUntilMs - options.now)}`))
  }
  if (state.waiting !== undefined && state.finished === undefined) {
    const wait = state.waiting.retryAtMs > options.now ? `retrying in ${formatWait(state.waiting.retryAtMs - options.now)}` : "retrying now"
    notes.push(palette.yellow(`waiting for the API: ${state.waiting.reason}, ${wait}`))
  }
  if (state.stopping !== undefined && state.finished === undefined) {
    notes.push(palette.yellow(`stopping: ${state.stopping}`))
  }
  const lines = [header, formatCounts(state, palette, options.columns), ...notes, ...formatJobLines(state, options, palette)]
  return lines.map((line) => truncateEnd(line, Math.max(1, options.columns)))
}
