/**
 * The live display's frame, as text, from the display state at an instant. Pure: the renderer
 * supplies the time, the width and whether to colour.
 *
 *     spring-launch  [#######!............]  8/20 jobs  ETA 2m10s  elapsed 1m27s
 *     7 done, 1 failed, 4 in flight, 8 queued  spent ~$3.60 of ~$9.00
 *     picked up 3 jobs from the last run (not sent again)
 *       renders/hero.mp4               rendering 42%           1m03s
 *       renders/locales/alice--fr.mp4  retrying submit in 4s     12s
 *       renders/locales/bob--fr.mp4    captioning 10%            48s
 *       … and 2 more in flight
 *
 * A run with nothing to do (every job up to date) draws one line instead of an empty bar:
 *
 *     spring-launch  nothing to do: 20 jobs up to date
 *
 * Widths are terminal columns (`visibleWidth`), not code points: a CJK character or an emoji
 * takes two, so a job named in Japanese is cut and padded as the terminal draws it.
 */
import type { JobStep } from "../../runtime/events.ts"
import { usd } from "../table.ts"
import { countsOf, type DisplayState, type JobView, jobsInFlight, nothingToDo } from "./displayState.ts"
import { colourPalette, padEnd, padStart, type Palette, plainPalette, truncateEnd, truncateStart, visibleWidth } from "./terminalText.ts"
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

/** A job at the provider, in its stage's words: queued there, or working (with its progress). */
const atProvider = (view: JobView): string => {
  const percent = view.progress === null ? "" : ` ${Math.round(view.progress)}%`
  switch (view.stage) {
    case "captions":
      return view.status === "QUEUED" ? "captions queued at the provider" : `captioning${percent}`
    case "overlay":
      return view.status === "QUEUED" ? "overlay queued at the provider" : `adding overlay${percent}`
    default:
      return view.status === "QUEUED" ? "queued at the provider" : `rendering${percent}`
  }
}

const withAttempt = (text: string, attempt: number): string => (attempt > 1 ? `${text} (attempt ${attempt})` : text)

/** What a step being tried again is doing once its wait is over (the next event says more). */
const retryingNow = (view: JobView, step: JobStep): string => {
  switch (step) {
    case "speech":
      return "generating speech"
    case "submit":
      return "submitting"
    case "captions":
      return "submitting captions"
    case "reconcile":
      return "looking for a lost submit"
    case "overlay":
      return "submitting overlay"
    case "download":
      return "downloading"
    case "poll":
      return atProvider(view)
  }
}

/** The step a job in flight is at, as the job line shows it. */
export const formatJobStep = (view: JobView, now: number): string => {
  switch (view.phase) {
    case "submitting":
      return withAttempt(view.stage === "captions" ? "submitting captions" : "submitting", view.attempt)
    case "rendering":
      return atProvider(view)
    case "rendered":
      return view.stage === "captions" ? "captioned" : "rendered"
    case "downloading":
      return "downloading"
    case "retrying": {
      const retry = view.retry
      if (retry === undefined) return "retrying"
      const waitMs = retry.untilMs - now
      if (waitMs <= 0) return retryingNow(view, retry.step)
      return retry.throttled ? `rate limited: ${retry.step} in ${formatWait(waitMs)}` : `retrying ${retry.step} in ${formatWait(waitMs)}`
    }
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
  const stepWidth = Math.max(0, ...rows.map((row) => visibleWidth(row.step)))
  const elapsedWidth = Math.max(0, ...rows.map((row) => visibleWidth(row.elapsed)))
  const longestJob = Math.max(0, ...rows.map((row) => visibleWidth(row.view.job)))
  // The job's path gives way first (keeping its file name); a very narrow terminal cuts the end too.
  const jobWidth = Math.min(longestJob, Math.max(12, options.columns - (2 + 2 + stepWidth + 2 + elapsedWidth)))
  const lines = rows.map((row) => {
    const step = row.view.phase === "retrying" ? palette.yellow(padEnd(row.step, stepWidth)) : padEnd(row.step, stepWidth)
    return `  ${padEnd(truncateStart(row.view.job, jobWidth), jobWidth)}  ${step}  ${padStart(row.elapsed, elapsedWidth)}`
  })
  const hidden = inFlight.length - shown.length
  return hidden > 0 ? [...lines, `  … and ${hidden} more in flight`] : lines
}

/** The header of a run with nothing to do: how many jobs are up to date, once the run says. */
const formatNothingToDo = (state: DisplayState, columns: number): string => {
  const upToDate = state.finished?.summary.upToDate.length
  const what =
    upToDate === undefined
      ? "nothing to do: every job is up to date"
      : upToDate === 0
        ? "nothing to do: no jobs"
        : `nothing to do: ${upToDate} ${upToDate === 1 ? "job" : "jobs"} up to date`
  return firstFitting([...(state.pipeline === "" ? [] : [`${state.pipeline}  ${what}`]), what], columns)
}

/** How the run ended, in the header's place for the ETA. */
const endText = (state: DisplayState): string | undefined => {
  const summary = state.finished?.summary
  if (summary === undefined) return undefined
  if (summary.stopped !== undefined) return "stopped"
  return summary.interrupted ? "interrupted" : "finished"
}

/** The frame's lines, none wider than `options.columns`. */
export const formatFrame = (state: DisplayState, options: FrameOptions): ReadonlyArray<string> => {
  const palette = options.color ? colourPalette : plainPalette
  const columns = Math.max(1, options.columns)
  if (nothingToDo(state)) return [truncateEnd(formatNothingToDo(state, columns), columns)]
  const counts = countsOf(state)
  const ended = counts.done + counts.failed + counts.detached
  const eta = estimateRemainingMs(state, options.now)
  const bar = `${formatBar(state, columns, palette, options.color)}  ${ended}/${counts.total} ${counts.total === 1 ? "job" : "jobs"}`
  const etaText = endText(state) ?? `ETA ${eta === undefined ? "—" : formatDuration(eta)}`
  const elapsed = `elapsed ${formatDuration(runElapsedMs(state, options.now))}`
  // A narrow terminal loses the pipeline's name first, then the elapsed time.
  const header = firstFitting(
    [
      ...(state.pipeline === "" ? [] : [`${state.pipeline}  ${bar}  ${etaText}  ${elapsed}`]),
      `${bar}  ${etaText}  ${elapsed}`,
      `${bar}  ${etaText}`
    ],
    columns
  )
  const notes: Array<string> = []
  if (state.resumedJobs > 0) {
    const n = state.resumedJobs
    notes.push(
      palette.dim(
        firstFitting(
          [`picked up ${n} ${n === 1 ? "job" : "jobs"} from the last run (not sent again)`, `resumed ${n} from the last run`],
          columns
        )
      )
    )
  }
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
  const lines = [header, formatCounts(state, palette, columns), ...notes, ...formatJobLines(state, { ...options, columns }, palette)]
  return lines.map((line) => truncateEnd(line, columns))
}
