/**
 * The block printed when a run ends (by the live display and the plain lines alike): the counts,
 * each failure with its reason, each job still rendering with its video id, jobs whose submit
 * was cut short, possible duplicate renders, the spend and the time taken.
 *
 *     Finished in 4m12s: 17 done, 1 failed, 1 in flight, 1 skipped (20 jobs)
 *     Failed:
 *       renders/a.mp4: the provider's render failed (code RENDER_ERROR; poll, video video_x)
 *     In flight (still rendering at the provider; the next run picks them up):
 *       renders/b.mp4: still rendering, id video_y
 *     Unknown (interrupted while the submit was unanswered; a paid video may or may not exist at the provider):
 *       renders/d.mp4
 *     Skipped (never started):
 *       renders/c.mp4
 *     Possible duplicates: 1 submit was retried after an unknown outcome; a second paid video may exist.
 *     Spent: ~$4.20 (estimated)
 */
import type { FailedJob, RunSummary } from "../../runtime/events.ts"
import { usd } from "../table.ts"
import { formatDuration } from "./timeText.ts"

/** Jobs listed by name under "Skipped" before the rest are only counted. */
export const MAX_SKIPPED_LISTED = 10

const formatFailure = (failure: FailedJob): string => {
  const details = [
    ...(failure.code === undefined ? [] : [`code ${failure.code}`]),
    `at ${failure.step}`,
    ...(failure.videoId === undefined ? [] : [`video ${failure.videoId}`])
  ]
  return `  ${failure.job}: ${failure.reason} (${details.join("; ")})`
}

export const formatSummary = (summary: RunSummary): ReadonlyArray<string> => {
  const verb = summary.interrupted ? "Interrupted after" : "Finished in"
  const counts =
    `${summary.completed.length} done, ${summary.failed.length} failed, ` +
    `${summary.inFlight.length} in flight, ${summary.skipped.length} skipped` +
    (summary.unknownOutcome.length > 0 ? `, ${summary.unknownOutcome.length} unknown` : "") +
    (summary.upToDate.length > 0 ? `, ${summary.upToDate.length} already up to date` : "")
  const lines: Array<string> = [
    `${verb} ${formatDuration(summary.elapsedMs)}: ${counts} (${summary.jobs} ${summary.jobs === 1 ? "job" : "jobs"})`
  ]
  if (summary.failed.length > 0) {
    lines.push("Failed:", ...summary.failed.map(formatFailure))
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
    lines.push(
      "Skipped (never started):",
      ...listed.map((job) => `  ${job}`),
      ...(rest > 0 ? [`  … and ${rest} more`] : [])
    )
  }
  if (summary.possibleDuplicates > 0) {
    const n = summary.possibleDuplicates
    lines.push(
      `Possible duplicates: ${n} ${n === 1 ? "submit was" : "submits were"} retried after an unknown outcome; ` +
        `${n === 1 ? "a second paid video" : "extra paid videos"} may exist at the provider.`
    )
  }
  lines.push(`Spent: ~${usd(summary.spentUsd)} (estimated)`)
  if (summary.budget) {
    lines.push(`Budget: stopped before passing ${usd(summary.budget.limitUsd)}; ${summary.budget.leftToDo} left to do.`)
  }
  return lines
}
