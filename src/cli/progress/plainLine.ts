/**
 * One human line per meaningful event, for a stdout that is not a terminal (a pipe, a CI log):
 *
 *     12:01:03 submitted renders/x.mp4 (video_abc, attempt 1)
 *
 * Pure: the memory is which 25% step of each job's progress has been reported, so a job polled
 * a hundred times prints at most three progress lines (past 25, 50 and 75%), and the display
 * state (the same reducer as the live display's): each job's stage (rendering, captioning, adding
 * its overlay), the jobs picked up from the last run, and the possible duplicates' cost for the
 * summary at the end.
 */
import { HashMap, Option } from "effect"
import type { RunEvent } from "../../runtime/events.ts"
import { formatLongDuration } from "../../runtime/campaignDuration.ts"
import { usd } from "../table.ts"
import { type DisplayState, initialDisplayState, jobView, reduceDisplayState } from "./displayState.ts"
import { formatSummary, summaryContextOf } from "./summary.ts"
import { formatBytes, formatClock, formatWait, parseInstant } from "./timeText.ts"

export interface PlainState {
  /** Per job, the highest quarter (1–3) of progress reported for its current video. */
  readonly progressStep: HashMap.HashMap<string, number>
  /** The run as the live display folds it. */
  readonly display: DisplayState
}

export const initialPlainState: PlainState = { progressStep: HashMap.empty(), display: initialDisplayState }

const line = (at: string, text: string): ReadonlyArray<string> => [`${formatClock(at)} ${text}`]

/** What a job at the provider is doing, by its stage. */
const workWord = (display: DisplayState, job: string): string => {
  switch (jobView(display, job)?.stage) {
    case "captions":
      return "captioning"
    case "overlay":
      return "adding overlay to"
    default:
      return "rendering"
  }
}

/** The lines for `event` and the state after it. */
export const plainLines = (before: PlainState, event: RunEvent): readonly [PlainState, ReadonlyArray<string>] => {
  const display = reduceDisplayState(before.display, event)
  const state: PlainState = { ...before, display }
  /** "picked up" when this event showed the job comes from the last run. */
  const pickedUp = (job: string, videoId: string): ReadonlyArray<string> =>
    jobView(display, job)?.resumed === true && jobView(before.display, job)?.resumed !== true
      ? line(event.at, `picked up ${job} from the last run (${videoId}, not sent again)`)
      : []
  switch (event.type) {
    case "run.started":
      // Nothing to do: the summary's one line says so, with how many jobs are up to date.
      if (event.jobs === 0) return [state, []]
      return [
        state,
        line(
          event.at,
          `started ${event.pipeline}: ${event.jobs} ${event.jobs === 1 ? "job" : "jobs"}, ` +
            `${event.renders} ${event.renders === 1 ? "render" : "renders"}, concurrency ${event.concurrency}, ` +
            `estimated ${usd(event.estimatedCostUsd)}` +
            (event.minimumDurationMs >= 60_000
              ? `, at least ${formatLongDuration(event.minimumDurationMs)} at ${event.generationQuota} generations`
              : "")
        )
      ]
    case "job.queued":
    case "job.submitting":
    case "job.rendered":
      // Followed at once by a line that says more (submitted, retrying, downloading).
      return [state, []]
    case "job.submitted": {
      // A new video starts its progress from zero.
      const next = { ...state, progressStep: HashMap.remove(state.progressStep, event.job) }
      // Attempt 0: the video of an earlier run's unanswered submit, found at the provider.
      if (event.attempt === 0)
        return [next, line(event.at, `picked up ${event.job} from the last run (${event.videoId}, found at the provider)`)]
      const verb = event.step === "captions" ? "captioning" : event.step === "overlay" ? "adding overlay to" : "submitted"
      return [next, line(event.at, `${verb} ${event.job} (${event.videoId}, attempt ${event.attempt})`)]
    }
    case "job.progress": {
      const picked = pickedUp(event.job, event.videoId)
      // 100% says no more than the download line that follows.
      if (event.progress === null || event.progress >= 100) return [state, picked]
      const step = Math.min(3, Math.floor(event.progress / 25))
      const reported = Option.getOrElse(HashMap.get(state.progressStep, event.job), () => 0)
      if (step <= reported) return [state, picked]
      return [
        { ...state, progressStep: HashMap.set(state.progressStep, event.job, step) },
        [...picked, ...line(event.at, `${workWord(display, event.job)} ${event.job} ${Math.round(event.progress)}% (${event.videoId})`)]
      ]
    }
    case "job.downloading":
      return [
        state,
        [
          ...pickedUp(event.job, event.videoId),
          ...line(
            event.at,
            `downloading ${event.job} (${event.videoId}${event.resumeFrom > 0 ? `, resuming at ${formatBytes(event.resumeFrom)}` : ""})`
          )
        ]
      ]
    case "job.completed":
      return [
        { ...state, progressStep: HashMap.remove(state.progressStep, event.job) },
        line(
          event.at,
          event.sharedWith === undefined
            ? `done ${event.job} (${formatBytes(event.bytes)})`
            : `done ${event.job} (${formatBytes(event.bytes)}, copied from ${event.sharedWith})`
        )
      ]
    case "job.retrying":
      return [
        state,
        line(
          event.at,
          `retrying ${event.job} ${event.step} in ${formatWait(event.delayMs)} after attempt ${event.attempt}: ${event.reason}`
        )
      ]
    case "job.duplicateRisk":
      return [state, line(event.at, `possible duplicate ${event.job}: ${event.reason}`)]
    case "job.failed": {
      const details = [
        ...(event.code === undefined ? [] : [`code ${event.code}`]),
        `at ${event.step}`,
        ...(event.videoId === undefined ? [] : [`video ${event.videoId}`])
      ]
      return [
        { ...state, progressStep: HashMap.remove(state.progressStep, event.job) },
        line(event.at, `FAILED ${event.job}: ${event.reason} (${details.join("; ")})`)
      ]
    }
    case "job.detached":
      return [
        { ...state, progressStep: HashMap.remove(state.progressStep, event.job) },
        line(event.at, `detached ${event.job}: still rendering at the provider, id ${event.videoId}; the next run picks it up`)
      ]
    case "run.throttled": {
      const atMs = parseInstant(event.at)
      const wait = atMs === undefined ? "" : ` for ${formatWait(event.untilMs - atMs)}`
      return [
        state,
        line(event.at, `rate limited by the provider: pausing ${event.step === undefined ? "requests" : `${event.step} requests`}${wait}`)
      ]
    }
    case "run.waiting": {
      const atMs = parseInstant(event.at)
      const wait = atMs === undefined ? "" : `, retrying in ${formatWait(Math.max(0, event.retryAtMs - atMs))}`
      return [state, line(event.at, `waiting for the API: ${event.reason}${wait}`)]
    }
    case "run.resumed":
      return [state, line(event.at, `the API answers again (after ${formatWait(event.downForMs)})`)]
    case "run.stopping":
      return [state, line(event.at, `stopping: ${event.reason}`)]
    case "run.warning":
      return [state, line(event.at, `warning: ${event.message}`)]
    case "run.finished":
      return [initialPlainState, formatSummary(event.summary, summaryContextOf(display))]
  }
}
