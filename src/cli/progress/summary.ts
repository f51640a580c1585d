/**
 * The block printed when a run ends (by the live display and the plain lines alike): the counts,
 * the failures grouped by reason, each job still rendering with its video id, jobs whose submit
 * was cut short, possible duplicate renders, the spend and the time taken, and how to go on.
 *
 *     Interrupted after 4m12s: 14 done, 62 failed, 1 in flight, 1 skipped, 1 unknown, 17 already up to date (96 jobs)
 *     Resumed: 8 jobs picked up from the last run (not sent again)
 *     Failed:
 *       renders/a.mp4: the provider's render failed (code RENDER_ERROR; at poll; video video_x)
 *       61 jobs failed: HTTP 422: audio too long (at submit; e.g. renders/f1.mp4, renders/f2.mp4, renders/f3.mp4 and 58 more)
 *     In flight (still rendering at the provider; the next run picks them up):
 *       renders/b.mp4: still rendering, id video_y
 *     Unknown (interrupted while the submit was unanswered; a paid video may or may not exist at the provider):
 *       renders/d.mp4
 *     Skipped (never started):
 *       renders/c.mp4
 *     Possible duplicates: 1 submit was retried after an unknown outcome; a second paid video may exist at the provider.
 *     Spent: ~$4.20 (estimated) + up to ~$0.90 more in 1 possible duplicate
 *     Run the same command to resume: finished jobs are kept and renders in flight are picked up, not sent again.
 *
 * A run the provider or the state folder stopped (`stopped`) leads with its message instead of
 * "Finished"; a run with nothing to do is one line, `Nothing to do: 17 jobs up to date.`
 */
import type { FailedJob, RunSummary } from "../../runtime/events.ts"
import { usd } from "../table.ts"
import type { DisplayState } from "./displayState.ts"
import { formatDuration } from "./timeText.ts"

/** Jobs listed by name under "Skipped" before the rest are only counted. */
export const MAX_SKIPPED_LISTED = 10

/** Jobs named in a group of failures with the same reason before the rest are only counted. */
export const MAX_FAILED_EXAMPLES = 3

/** What the run's events tell beyond its summary (the live display and the plain lines keep it). */
export interface SummaryContext {
  /** Jobs picked up from an earlier run (polled or downloaded, not sent again). */
  readonly resumed?: number
  /** The most the possible duplicates could cost: the estimate of the job of each (from `job.queued`). */
  readonly duplicateCostUsd?: number
}

/** The context the display state has: the duplicates' cost only if it saw each of them (`job.duplicateRisk`). */
export const summaryContextOf = (state: DisplayState): SummaryContext => {
  const duplicates = state.finished?.summary.possibleDuplicates ?? state.possibleDuplicates
  return {
    resumed: state.resumedJobs,
    ...(state.pricedDuplicates >= duplicates ? { duplicateCostUsd: state.duplicateCostUsd } : {})
  }
}

const plural = (n: number, one: string, many: string = `${one}s`): string => `${n} ${n === 1 ? one : many}`

const formatFailure = (failure: FailedJob): string => {
  const details = [
    ...(failure.code === undefined ? [] : [`code ${failure.code}`]),
    `at ${failure.step}`,
    ...(failure.videoId === undefined ? [] : [`video ${failure.videoId}`])
  ]
  return `  ${failure.job}: ${failure.reason} (${details.join("; ")})`
}

/** Failures with the same reason and code, in the order their first one came. */
const groupFailures = (failed: ReadonlyArray<FailedJob>): ReadonlyArray<ReadonlyArray<FailedJob>> => {
  const groups = new Map<string, Array<FailedJob>>()
  for (const failure of failed) {
    const key = `${failure.code ?? ""}\u0000${failure.reason}`
    const group = groups.get(key)
    if (group) group.push(failure)
    else groups.set(key, [failure])
  }
  return [...groups.values()]
}

/** One line for a group of failures: a lone one in full, more as a count, the reason once and a few names. */
const formatFailureGroup = (group: ReadonlyArray<FailedJob>): string => {
  const [first] = group
  if (first === undefined) return ""
  if (group.length === 1) return formatFailure(first)
  const steps = [...new Set(group.map((failure) => failure.step))]
  const named = group.slice(0, MAX_FAILED_EXAMPLES).map((failure) => failure.job)
  const rest = group.length - named.length
  const details = [
    ...(first.code === undefined ? [] : [`code ${first.code}`]),
    `at ${steps.join(", ")}`,
    rest > 0 ? `e.g. ${named.join(", ")} and ${rest} more` : named.join(", ")
  ]
  return `  ${group.length} jobs failed: ${first.reason} (${details.join("; ")})`
}

const formatCounts = (summary: RunSummary): string =>
  `${summary.completed.length} done, ${summary.failed.length} failed, ` +
  `${summary.inFlight.length} in flight, ${summary.skipped.length} skipped` +
  (summary.unknownOutcome.length > 0 ? `, ${summary.unknownOutcome.length} unknown` : "") +
  (summary.upToDate.length > 0 ? `, ${summary.upToDate.length} already up to date` : "") +
  ` (${plural(summary.jobs, "job")})`

const formatSpend = (summary: RunSummary, context: SummaryContext): string => {
  const spent = `Spent: ~${usd(summary.spentUsd)} (estimated)`
  const n = summary.possibleDuplicates
  if (n <= 0) return spent
  const duplicates = plural(n, "possible duplicate")
  return context.duplicateCostUsd === undefined
    ? `${spent} + ${duplicates} of unknown cost`
    : `${spent} + up to ~${usd(context.duplicateCostUsd)} more in ${duplicates}`
}

export const formatSummary = (summary: RunSummary, context: SummaryContext = {}): ReadonlyArray<string> => {
  if (summary.stopped === undefined && summary.jobs === summary.upToDate.length) {
    return [summary.jobs === 0 ? "Nothing to do: no job to run." : `Nothing to do: ${plural(summary.jobs, "job")} up to date.`]
  }
  const elapsed = formatDuration(summary.elapsedMs)
  const lines: Array<string> =
    summary.stopped !== undefined
      ? [`Stopped after ${elapsed}: ${summary.stopped.message}`, `Jobs: ${formatCounts(summary)}`]
      : [`${summary.interrupted ? "Interrupted after" : "Finished in"} ${elapsed}: ${formatCounts(summary)}`]
  const resumed = context.resumed ?? 0
  if (resumed > 0) lines.push(`Resumed: ${plural(resumed, "job")} picked up from the last run (not sent again)`)
  if (summary.failed.length > 0) {
    lines.push("Failed:", ...groupFailures(summary.failed).map(formatFailureGroup))
  }
  if (summary.inFlight.length > 0) {
    lines.push(
      "In flight (still rendering at the provider; the next run picks them up):",
      ...summary.inFlight.map((job) => `  ${job.job}: still rendering, id ${job.videoId}`)
    )
  }
  if (summary.unknownOutcome.length > 0) {
    lines.push(
      "Unknown (interrupted while the submit was unanswered; a paid video may or may not exist at the provider):",
      ...summary.unknownOutcome.map((job) => `  ${job}`)
    )
  }
  if (summary.skipped.length > 0) {
    const listed = summary.skipped.slice(0, MAX_SKIPPED_LISTED)
    const rest = summary.skipped.length - listed.length
    lines.push("Skipped (never started):", ...listed.map((job) => `  ${job}`), ...(rest > 0 ? [`  … and ${rest} more`] : []))
  }
  if (summary.possibleDuplicates > 0) {
    const n = summary.possibleDuplicates
    lines.push(
      `Possible duplicates: ${n} ${n === 1 ? "submit was" : "submits were"} retried after an unknown outcome; ` +
        `${n === 1 ? "a second paid video" : "extra paid videos"} may exist at the provider.`
    )
  }
  lines.push(formatSpend(summary, context))
  if (summary.budget) {
    lines.push(`Budget: stopped before passing ${usd(summary.budget.limitUsd)}; ${summary.budget.leftToDo} left to do.`)
  }
  if (summary.stopped !== undefined) {
    lines.push("Once that is fixed, run the same command to resume: nothing finished is sent again.")
  } else if (summary.interrupted) {
    lines.push("Run the same command to resume: finished jobs are kept and renders in flight are picked up, not sent again.")
  }
  return lines
}
