/**
 * One human line per meaningful event, for a stdout that is not a terminal (a pipe, a CI log):
 *
 *     12:01:03 submitted renders/x.mp4 (video_abc, attempt 1)
 *
 * Pure: the only memory is which 25% step of each job's progress has been reported, so a job
 * polled a hundred times prints at most three progress lines (past 25, 50 and 75%).
 */
import { HashMap, Option } from "effect"
import type { RunEvent } from "../../runtime/events.ts"
import { formatLongDuration } from "../../runtime/campaignDuration.ts"
import { usd } from "../table.ts"
import { formatSummary } from "./summary.ts"
import { formatBytes, formatClock, formatWait, parseInstant } from "./timeText.ts"

export interface PlainState {
  /** Per job, the highest quarter (1–3) of progress reported for its current video. */
  readonly progressStep: HashMap.HashMap<string, number>
}

export const initialPlainState: PlainState = { progressStep: HashMap.empty() }

const line = (at: string, text: string): ReadonlyArray<string> => [`${formatClock(at)} ${text}`]

/** The lines for `event` and the state after it. */
export const plainLines = (state: PlainState, event: RunEvent): readonly [PlainState, ReadonlyArray<string>] => {
  switch (event.type) {
    case "run.started":
      return [
        state,
        line(
          event.at,
          `started ${event.pipeline}: ${event.jobs} ${event.jobs === 1 ? "job" : "jobs"}, ` +
            `${event.renders} ${event.renders === 1 ? "render" : "renders"}, concurrency ${event.concurrency}, ` +
            `estimated ${usd(event.estimatedCostUsd)}` +
            (event.minimumDurationMs >= 60_000 ? `, at least ${formatLongDuration(event.minimumDurationMs)} at ${event.generationQuota} generations` : "")
        )
      ]
    case "job.queued":
    case "job.submitting":
    case "job.rendered":
      // Followed at once by a line that says more (submitted, retrying, downloading).
      return [state, []]
    case "job.submitted":
      return [
        // A new video starts its progress from zero.
        { progressStep: HashMap.remove(state.progressStep, event.job) },
        line(event.at, `${event.step === "captions" ? "captioning" : "submitted"} ${event.job} (${event.videoId}, attempt ${event.attempt})`)
      ]
    case "job.progress": {
      // 100% says no more than the download line that follows.
      if (event.progress === null || event.progress >= 100) return [state, []]
      const step = Math.min(3, Math.floor(event.progress / 25))
      const reported = Option.getOrElse(HashMap.get(state.progressStep, event.job), () => 0)
      if (step <= reported) return [state, []]
      return [
        { progressStep: HashMap.set(state.progressStep, event.job, step) },
        line(event.at, `rendering ${event.job} ${Math.round(event.progress)}% (${event.videoId})`)
      ]
    }
    case "job.downloading":
      return [
        state,
        line(
          event.at,
          `downloading ${event.job} (${event.videoId}${event.resumeFrom > 0 ? `, resuming at ${formatBytes(event.resumeFrom)}` : ""})`
        )
      ]
    case "job.completed":
      return [
        { progressStep: HashMap.remove(state.progressStep, event.job) },
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
        { progressStep: HashMap.remove(state.progressStep, event.job) },
        line(event.at, `FAILED ${event.job}: ${event.reason} (${details.join("; ")})`)
      ]
    }
    case "job.detached":
      return [
        { progressStep: HashMap.remove(state.progressStep, event.job) },
        line(event.at, `detached ${event.job}: still rendering at the provider, id ${event.videoId}; the next run picks it up`)
      ]
    case "run.throttled": {
      const atMs = parseInstant(event.at)
      const wait = atMs === undefined ? "" : ` for ${formatWait(event.untilMs - atMs)}`
      return [state, line(event.at, `rate limited by the provider: pausing ${event.step === undefined ? "requests" : `${event.step} requests`}${wait}`)]
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
      return [initialPlainState, formatSummary(event.summary)]
  }
}
