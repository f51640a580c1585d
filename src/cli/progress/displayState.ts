/**
 * What the live display knows about a run, folded from its events by a pure reducer: each job's
 * step (speech, the render, its captioning, its overlay), progress and attempt, the counts, the
 * jobs picked up from an earlier run, and the estimated spend.
 */
import { HashMap, Option } from "effect"
import type { JobStep, RunEvent, RunSummary } from "../../runtime/events.ts"
import { parseInstant } from "./timeText.ts"

/** Where a job is, as the display shows it. */
export type JobPhase =
  | "queued"
  | "submitting"
  /** At the provider (queued there, or working): the render, its captioning or its overlay, as `stage` says. */
  | "rendering"
  /** A remote step finished; the next one (its captioning, the download) has not started yet. */
  | "rendered"
  | "downloading"
  | "retrying"
  | "done"
  | "failed"
  /** Still rendering at the provider when its timeout passed; the next run picks it up. */
  | "detached"

/** The phases of a job being worked on now ("in flight" in the counts). */
export const activePhases: ReadonlySet<JobPhase> = new Set(["submitting", "rendering", "rendered", "downloading", "retrying"])

/**
 * Which part of the job's work it is at: its speech (text to speech), its video, the video's
 * captioning, or its text overlay. The events say it (`job.submitted`'s and `job.retrying`'s
 * `step`), or it follows: a submit after the job's video rendered is its captioning's.
 */
export type JobStage = "speech" | "video" | "captions" | "overlay"

export interface JobRetry {
  readonly step: JobStep
  readonly attempt: number
  readonly reason: string
  /** When the next attempt starts (epoch millis). */
  readonly untilMs: number
  /** The provider's quota (a 429), not a failure. */
  readonly throttled: boolean
}

export interface JobView {
  readonly job: string
  /** Order of first appearance: in-flight lines are listed in it. */
  readonly seq: number
  readonly phase: JobPhase
  readonly stage: JobStage
  /** The job's video finished rendering in this run: a submit after it is the captioning's. */
  readonly videoRendered: boolean
  /** Picked up from an earlier run (its first event here was a poll, a download or an adopted video): not sent again. */
  readonly resumed: boolean
  /** The submit attempt, from 1 (0 before the first). */
  readonly attempt: number
  readonly estimatedCostUsd: number
  /** When the job left the queue (epoch millis): its elapsed time counts from here. */
  readonly startedAtMs?: number
  readonly videoId?: string
  /** The provider's progress, 0–100, or null when it gave none. */
  readonly progress: number | null
  readonly status?: string
  readonly retry?: JobRetry
  readonly failure?: { readonly step: JobStep; readonly reason: string; readonly code?: string }
  readonly sharedWith?: string
}

export interface DisplayState {
  readonly pipeline: string
  /** When `run.started` happened (epoch millis). */
  readonly startedAtMs?: number
  /** Jobs in the run, from `run.started` (or the number seen, if more). */
  readonly totalJobs: number
  readonly renders: number
  readonly concurrency: number
  readonly estimatedCostUsd: number
  /**
   * Estimated spend of the renders submitted so far: each accepted render submit counts the job's
   * estimate, which covers its captioning too (a captioning or an overlay adds nothing).
   */
  readonly spentUsd: number
  readonly jobs: HashMap.HashMap<string, JobView>
  readonly nextSeq: number
  /** Submits retried after an unknown outcome. */
  readonly possibleDuplicates: number
  /** The most those could cost: the estimate of the job of each (`pricedDuplicates` of them, the ones seen as events). */
  readonly duplicateCostUsd: number
  readonly pricedDuplicates: number
  /** Jobs picked up from an earlier run (polled or downloaded, never sent again). */
  readonly resumedJobs: number
  /** The provider asked us to wait until then (epoch millis). */
  readonly throttledUntilMs?: number
  /** The least time the quota allows the run's renders (from `run.started`), and the quota in words. */
  readonly minimumDurationMs: number
  readonly generationQuota?: string
  /** Renders submitted so far (captionings not counted): what the quota has left to pace. */
  readonly submittedRenders: number
  /** Time from start to done of the jobs finished so far, to estimate the rest. */
  readonly finishedJobMs: { readonly total: number; readonly count: number }
  /** The API is not answering: why, and when the next probe goes out (epoch millis). */
  readonly waiting?: { readonly reason: string; readonly retryAtMs: number }
  /** Why the run is stopping, once it is. */
  readonly stopping?: string
  readonly finished?: { readonly atMs: number; readonly summary: RunSummary }
}

export const initialDisplayState: DisplayState = {
  pipeline: "",
  totalJobs: 0,
  renders: 0,
  concurrency: 0,
  estimatedCostUsd: 0,
  spentUsd: 0,
  jobs: HashMap.empty(),
  nextSeq: 0,
  possibleDuplicates: 0,
  duplicateCostUsd: 0,
  pricedDuplicates: 0,
  resumedJobs: 0,
  minimumDurationMs: 0,
  submittedRenders: 0,
  finishedJobMs: { total: 0, count: 0 }
}

export interface DisplayCounts {
  readonly total: number
  readonly done: number
  readonly failed: number
  readonly detached: number
  readonly inFlight: number
  /** Not started yet: jobs announced but not begun, plus jobs of the run not announced yet. */
  readonly queued: number
}

export const countsOf = (state: DisplayState): DisplayCounts => {
  let done = 0
  let failed = 0
  let detached = 0
  let inFlight = 0
  for (const view of HashMap.values(state.jobs)) {
    if (view.phase === "done") done++
    else if (view.phase === "failed") failed++
    else if (view.phase === "detached") detached++
    else if (activePhases.has(view.phase)) inFlight++
  }
  const total = Math.max(state.totalJobs, HashMap.size(state.jobs))
  return { total, done, failed, detached, inFlight, queued: Math.max(0, total - done - failed - detached - inFlight) }
}

/** The run has begun and has no job to do: every job was up to date. */
export const nothingToDo = (state: DisplayState): boolean => {
  if (countsOf(state).total > 0) return false
  const summary = state.finished?.summary
  return summary === undefined ? state.startedAtMs !== undefined : summary.jobs === summary.upToDate.length
}

/** The jobs in flight, in the order they first appeared. */
export const jobsInFlight = (state: DisplayState): ReadonlyArray<JobView> =>
  Array.from(HashMap.values(state.jobs))
    .filter((view) => activePhases.has(view.phase))
    .sort((a, b) => a.seq - b.seq)

export const jobView = (state: DisplayState, job: string): JobView | undefined => Option.getOrUndefined(HashMap.get(state.jobs, job))

/** Applies `change` to the job (creating it, queued, if this is its first event). */
const updateJob = (state: DisplayState, job: string, change: (view: JobView) => JobView): DisplayState => {
  const existing = jobView(state, job)
  const view: JobView = existing ?? {
    job,
    seq: state.nextSeq,
    phase: "queued",
    stage: "video",
    videoRendered: false,
    resumed: false,
    attempt: 0,
    estimatedCostUsd: 0,
    progress: null
  }
  return {
    ...state,
    nextSeq: existing ? state.nextSeq : state.nextSeq + 1,
    jobs: HashMap.set(state.jobs, job, change(view))
  }
}

/** Marks the job started at `atMs` unless it already was. */
const started = (view: JobView, atMs: number | undefined): JobView =>
  view.startedAtMs !== undefined || atMs === undefined ? view : { ...view, startedAtMs: atMs }

/** Drops the pending retry from a view (exactOptionalPropertyTypes: omit, never `undefined`). */
const withoutRetry = (view: JobView): JobView => {
  if (view.retry === undefined) return view
  const { retry: _retry, ...rest } = view
  return rest
}

/** Drops the provider's status of the previous video. */
const withoutStatus = (view: JobView): JobView => {
  if (view.status === undefined) return view
  const { status: _status, ...rest } = view
  return rest
}

/** The stage after the job's video: a submit once it rendered is its captioning's. */
const videoOrCaptions = (view: JobView): JobStage => (view.videoRendered || view.stage === "captions" ? "captions" : "video")

/** The stage a retry of `step` is at. */
const stageOfRetry = (view: JobView, step: JobStep): JobStage => {
  switch (step) {
    case "speech":
      return "speech"
    case "submit":
      return "video"
    case "captions":
      return "captions"
    case "overlay":
      return "overlay"
    case "reconcile":
      return videoOrCaptions(view)
    case "poll":
    case "download":
      return view.stage === "speech" ? "video" : view.stage
  }
}

/** The stage of an accepted submit: the event's `step`, else (an adopted video) what follows. */
const stageOfSubmitted = (view: JobView, step: JobStep | undefined): JobStage =>
  step === "captions" ? "captions" : step === "overlay" ? "overlay" : step === "submit" ? "video" : videoOrCaptions(view)

/**
 * Marks a job picked up from an earlier run: its first event in this run is a poll, a download or
 * an adopted video (a submit of this run would have come first). Counted once.
 */
const resumedBy = (state: DisplayState, job: string): DisplayState => {
  const view = jobView(state, job)
  if (view !== undefined && view.phase !== "queued") return state
  return { ...updateJob(state, job, (v) => ({ ...v, resumed: true })), resumedJobs: state.resumedJobs + 1 }
}

/** The display state after `event`. Pure. */
export const reduceDisplayState = (state: DisplayState, event: RunEvent): DisplayState => {
  const atMs = parseInstant(event.at)
  switch (event.type) {
    case "run.started":
      return {
        ...state,
        pipeline: event.pipeline,
        ...(atMs === undefined ? {} : { startedAtMs: atMs }),
        totalJobs: event.jobs,
        renders: event.renders,
        concurrency: event.concurrency,
        estimatedCostUsd: event.estimatedCostUsd,
        minimumDurationMs: event.minimumDurationMs,
        generationQuota: event.generationQuota
      }
    case "job.queued":
      return updateJob(state, event.job, (view) => ({ ...view, estimatedCostUsd: event.estimatedCostUsd }))
    case "job.submitting":
      return updateJob(state, event.job, (view) => ({
        ...withoutRetry(started(view, atMs)),
        phase: "submitting",
        stage: videoOrCaptions(view),
        attempt: event.attempt
      }))
    case "job.submitted": {
      const render = event.step === undefined || event.step === "submit"
      // Attempt 0: a video of an earlier run's submit, found at the provider (paid for then).
      const adopted = event.attempt === 0
      const before = adopted ? resumedBy(state, event.job) : state
      const next = updateJob(before, event.job, (view) => ({
        ...withoutStatus(withoutRetry(started(view, atMs))),
        phase: "rendering",
        stage: stageOfSubmitted(view, event.step),
        attempt: event.attempt,
        videoId: event.videoId,
        progress: null
      }))
      // Every accepted render submit is a render to pay for (a resubmit after FAILED too), as the
      // run counts it. The job's estimate already covers its captioning: a captioning adds nothing.
      const paid = render && !adopted
      return {
        ...next,
        spentUsd: next.spentUsd + (paid ? (jobView(next, event.job)?.estimatedCostUsd ?? 0) : 0),
        submittedRenders: next.submittedRenders + (render ? 1 : 0)
      }
    }
    case "job.progress":
      return updateJob(resumedBy(state, event.job), event.job, (view) => ({
        ...withoutRetry(started(view, atMs)),
        phase: "rendering",
        videoId: event.videoId,
        progress: event.progress,
        status: event.status
      }))
    case "job.rendered":
      return updateJob(resumedBy(state, event.job), event.job, (view) => ({
        ...withoutRetry(started(view, atMs)),
        phase: "rendered",
        videoRendered: view.videoRendered || view.stage === "video",
        videoId: event.videoId,
        progress: 100
      }))
    case "job.downloading":
      return updateJob(resumedBy(state, event.job), event.job, (view) => ({
        ...withoutRetry(started(view, atMs)),
        phase: "downloading",
        videoId: event.videoId,
        progress: 100
      }))
    case "job.completed": {
      const startedAtMs = jobView(state, event.job)?.startedAtMs
      const next = updateJob(state, event.job, (view) => ({
        ...withoutRetry(view),
        phase: "done",
        videoId: event.videoId,
        ...(event.sharedWith === undefined ? {} : { sharedWith: event.sharedWith })
      }))
      if (startedAtMs === undefined || atMs === undefined || event.sharedWith !== undefined) return next
      return { ...next, finishedJobMs: { total: next.finishedJobMs.total + (atMs - startedAtMs), count: next.finishedJobMs.count + 1 } }
    }
    case "job.retrying":
      return updateJob(state, event.job, (view) => ({
        ...started(view, atMs),
        phase: "retrying",
        stage: stageOfRetry(view, event.step),
        retry: {
          step: event.step,
          attempt: event.attempt,
          reason: event.reason,
          untilMs: (atMs ?? 0) + event.delayMs,
          throttled: event.throttled === true
        }
      }))
    case "job.duplicateRisk":
      // At most a second render of the job: its whole estimate (a captioning's costs less).
      return {
        ...state,
        possibleDuplicates: state.possibleDuplicates + 1,
        duplicateCostUsd: state.duplicateCostUsd + (jobView(state, event.job)?.estimatedCostUsd ?? 0),
        pricedDuplicates: state.pricedDuplicates + 1
      }
    case "job.failed":
      return updateJob(state, event.job, (view) => ({
        ...withoutRetry(view),
        phase: "failed",
        ...(event.videoId === undefined ? {} : { videoId: event.videoId }),
        failure: {
          step: event.step,
          reason: event.reason,
          ...(event.code === undefined ? {} : { code: event.code })
        }
      }))
    case "job.detached":
      return updateJob(state, event.job, (view) => ({ ...withoutRetry(view), phase: "detached", videoId: event.videoId }))
    case "run.throttled":
      return { ...state, throttledUntilMs: Math.max(state.throttledUntilMs ?? 0, event.untilMs) }
    case "run.waiting":
      return { ...state, waiting: { reason: event.reason, retryAtMs: event.retryAtMs } }
    case "run.resumed": {
      const { waiting: _waiting, ...rest } = state
      return rest
    }
    case "run.stopping":
      return { ...state, stopping: event.reason }
    case "run.warning":
      return state
    case "run.finished":
      return {
        ...state,
        spentUsd: event.summary.spentUsd,
        possibleDuplicates: Math.max(state.possibleDuplicates, event.summary.possibleDuplicates),
        finished: { atMs: atMs ?? state.startedAtMs ?? 0, summary: event.summary }
      }
  }
}

/** Folds a whole sequence of events from the initial state. */
export const displayStateOf = (events: Iterable<RunEvent>): DisplayState => {
  let state = initialDisplayState
  for (const event of events) state = reduceDisplayState(state, event)
  return state
}
