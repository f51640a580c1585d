/**
 * What a run reports, as plain serialisable values: the CLI draws them (live display, plain lines
 * or NDJSON), the library hands them out as a Stream or to a callback. Nothing below `cli/`
 * prints; everything is one of these.
 */

/** The steps of one job's machine (later issues add stages). */
/** `reconcile`: looking for the video of a submit whose answer was lost. */
export type JobStep = "speech" | "submit" | "reconcile" | "captions" | "poll" | "overlay" | "download"

interface JobEventBase {
  /** The job's id: its output path relative to the project root. */
  readonly job: string
  /** ISO 8601 time of the event. */
  readonly at: string
}

export type RunEvent =
  | {
      readonly type: "run.started"
      readonly at: string
      readonly pipeline: string
      readonly jobs: number
      /** Jobs that will be rendered (distinct fingerprints among the jobs to do). */
      readonly renders: number
      readonly concurrency: number
      readonly estimatedCostUsd: number
      /** The least time the provider's quotas allow these renders (renders ÷ generations per minute). */
      readonly minimumDurationMs: number
      /** The generation quota the run paces to, in words (`2 per minute`). */
      readonly generationQuota: string
    }
  | (JobEventBase & { readonly type: "job.queued"; readonly set: string; readonly estimatedCostUsd: number })
  | (JobEventBase & { readonly type: "job.submitting"; readonly attempt: number })
  | (JobEventBase & {
      readonly type: "job.submitted"
      readonly videoId: string
      readonly attempt: number
      /** Which remote job: the render (`submit`) or its captioning (`captions`). */
      readonly step?: JobStep
    })
  | (JobEventBase & { readonly type: "job.progress"; readonly videoId: string; readonly progress: number | null; readonly status: string })
  | (JobEventBase & { readonly type: "job.rendered"; readonly videoId: string })
  | (JobEventBase & { readonly type: "job.downloading"; readonly videoId: string; readonly resumeFrom: number })
  | (JobEventBase & {
      readonly type: "job.completed"
      readonly videoId: string
      readonly output: string
      readonly bytes: number
      /** Another job with the same fingerprint rendered it; this output is a copy. */
      readonly sharedWith?: string
    })
  | (JobEventBase & {
      readonly type: "job.retrying"
      readonly step: JobStep
      readonly attempt: number
      readonly delayMs: number
      readonly reason: string
      /** The provider refused the request for its quota (429): not a failure, no attempt spent. */
      readonly throttled?: boolean
    })
  | (JobEventBase & {
      readonly type: "job.duplicateRisk"
      /** A submit whose outcome is unknown (the request reached the server, the answer was lost) is being retried: a second paid video may exist. */
      readonly reason: string
    })
  | (JobEventBase & {
      readonly type: "job.failed"
      readonly step: JobStep
      readonly reason: string
      /** The provider's error code, when the video ended FAILED. */
      readonly code?: string
      readonly videoId?: string
    })
  | (JobEventBase & {
      readonly type: "job.detached"
      /** Still rendering (and billing) at the provider when the job's timeout passed: never resubmitted, picked up by the next run. */
      readonly videoId: string
    })
  /** A 429: requests of this kind wait until `untilMs` (epoch ms). */
  | { readonly type: "run.throttled"; readonly at: string; readonly untilMs: number; readonly step?: JobStep }
  /** The API is not answering (connection refused, 5xx in a row): the run waits and probes, no job fails for it. */
  | { readonly type: "run.waiting"; readonly at: string; readonly reason: string; readonly sinceMs: number; readonly retryAtMs: number }
  /** The API answers again after an outage. */
  | { readonly type: "run.resumed"; readonly at: string; readonly downForMs: number }
  /** Something a person should know that does not stop the run (a stale runner lock taken over, a torn journal line). */
  | { readonly type: "run.warning"; readonly at: string; readonly message: string }
  | { readonly type: "run.stopping"; readonly at: string; readonly reason: string }
  | { readonly type: "run.finished"; readonly at: string; readonly summary: RunSummary }

export type RunEventType = RunEvent["type"]

export interface FailedJob {
  readonly job: string
  readonly step: JobStep
  readonly reason: string
  readonly code?: string
  readonly videoId?: string
}

export interface InFlightJob {
  readonly job: string
  readonly videoId: string
}

export interface RunSummary {
  readonly jobs: number
  /** Already done before this run (the lock file and the file on disk agree): nothing was sent for them. */
  readonly upToDate: ReadonlyArray<string>
  readonly completed: ReadonlyArray<string>
  readonly failed: ReadonlyArray<FailedJob>
  /** Still rendering at the provider (timed out or interrupted after submission). */
  readonly inFlight: ReadonlyArray<InFlightJob>
  /** Never started (the run was interrupted first). */
  readonly skipped: ReadonlyArray<string>
  /** Interrupted while their submit was unanswered: a video may or may not exist at the provider. */
  readonly unknownOutcome: ReadonlyArray<string>
  /** Submits retried after an unknown outcome: each may have created a second, paid video. */
  readonly possibleDuplicates: number
  readonly interrupted: boolean
  /** Set when the run stopped submitting because the next render would pass `run.budgetUsd`. */
  readonly budget?: { readonly limitUsd: number; readonly leftToDo: number }
  /** Estimated spend of the renders submitted in this run. */
  readonly spentUsd: number
  readonly elapsedMs: number
  /**
   * Set when the run stopped at once: the provider refused the key (`key-refused`) or the state
   * folder could not be written (`state-unwritable`); `message` says what to do.
   */
  readonly stopped?: { readonly reason: "key-refused" | "state-unwritable"; readonly message: string }
}
