/**
 * What a run reports, as plain serialisable values: the CLI draws them (live display, plain lines
 * or NDJSON), the library hands them out as a Stream or to a callback. Nothing below `cli/`
 * prints; everything is one of these.
 *
 * The events are Effect Schemas, and their types are derived from them. Every event and every
 * field carries a description: the NDJSON reference (`ndjsonDocs`, in the README) is generated
 * from them, so an event or a field cannot be added without being documented. They are written
 * as that reference reads: an event's as a sentence, a field's as a short lower-case note.
 */
import { Schema } from "effect"

const described = <S extends Schema.Schema.Any>(schema: S, description: string) => schema.annotations({ description }) as S

/** An optional field: absent or of its type (never `undefined`: the events are JSON). */
const optional = <S extends Schema.Schema.All>(schema: S) => Schema.optionalWith(schema, { exact: true })

/** The steps of one job's machine. `reconcile`: looking for the video of a submit whose answer was lost. */
export const JobStep = Schema.Literal("speech", "submit", "reconcile", "captions", "poll", "overlay", "download").annotations({
  identifier: "JobStep",
  description: "a step of a job"
})
export type JobStep = typeof JobStep.Type

const step = (description: string) => described(JobStep, description)
const text = (description: string) => described(Schema.String, description)
const number = (description: string) => described(Schema.Number, description)

/** Fields many events have, documented once above the reference's table: `at` (every event), `job` (job events), `videoId`. */
export const commonFields = {
  at: text("ISO 8601 time"),
  job: text("the job's id, which is its output path relative to the project root"),
  videoId: text("the provider's id of the video (or of the overlay job)")
} as const

const { videoId } = commonFields
const attempt = number("from 1")

const runEvent = <T extends string, F extends Schema.Struct.Fields>(type: T, description: string, fields: F) =>
  Schema.Struct({ type: Schema.Literal(type), at: commonFields.at, ...fields }).annotations({ identifier: type, description })

const jobEvent = <T extends string, F extends Schema.Struct.Fields>(type: T, description: string, fields: F) =>
  Schema.Struct({ type: Schema.Literal(type), job: commonFields.job, at: commonFields.at, ...fields }).annotations({
    identifier: type,
    description
  })

export const FailedJob = Schema.Struct({
  job: commonFields.job,
  step: step("the step that failed"),
  reason: text("why, in words"),
  code: optional(text("the provider's error code, when the video ended FAILED")),
  videoId: optional(videoId)
}).annotations({ identifier: "FailedJob", description: "a job that failed" })
export type FailedJob = typeof FailedJob.Type

export const InFlightJob = Schema.Struct({
  job: commonFields.job,
  videoId
}).annotations({ identifier: "InFlightJob", description: "a job still rendering at the provider" })
export type InFlightJob = typeof InFlightJob.Type

const jobIds = (description: string) => described(Schema.Array(Schema.String), description)

export const RunSummary = Schema.Struct({
  jobs: number("jobs in the pipeline"),
  upToDate: jobIds("job ids already done before this run: the lock file and the file on disk agree, nothing was sent for them"),
  completed: jobIds("job ids"),
  failed: described(Schema.Array(FailedJob), "the jobs that failed"),
  inFlight: described(Schema.Array(InFlightJob), "still rendering at the provider: timed out or interrupted after submission"),
  skipped: jobIds("job ids never started: the run was interrupted first"),
  unknownOutcome: jobIds("job ids whose submit was unanswered when the run was interrupted: a video may or may not exist at the provider"),
  possibleDuplicates: number("submits retried after an unknown outcome: each may have created a second, paid video"),
  interrupted: described(Schema.Boolean, "whether the run was interrupted, e.g. by Ctrl-C"),
  budget: optional(
    described(
      Schema.Struct({
        limitUsd: number("`run.budgetUsd`"),
        leftToDo: number("jobs not submitted for it")
      }),
      "the run stopped submitting because the next render would pass `run.budgetUsd`"
    )
  ),
  spentUsd: number("estimated spend of the renders submitted in this run"),
  elapsedMs: number("how long the run took"),
  stopped: optional(
    described(
      Schema.Struct({
        reason: described(Schema.Literal("key-refused", "state-unwritable"), "why"),
        message: text("what to do")
      }),
      "the run stopped at once, because the provider refused the key or the state folder could not be written"
    )
  )
}).annotations({ identifier: "RunSummary", description: "what the run did" })
export type RunSummary = typeof RunSummary.Type

export const RunEvent = Schema.Union(
  runEvent("run.started", "The run begins.", {
    pipeline: text("the pipeline's name"),
    jobs: number("jobs to do"),
    renders: number("distinct renders among them"),
    concurrency: number("jobs in flight at the provider at once"),
    estimatedCostUsd: number("estimated cost of these renders"),
    minimumDurationMs: number("the least time the generation quota allows these renders: renders ÷ generations per minute"),
    generationQuota: text("the generation quota the run paces to, e.g. `2 per minute`")
  }),
  jobEvent("job.queued", "A job to do.", {
    set: text("its set"),
    estimatedCostUsd: number("estimated cost of its render")
  }),
  jobEvent("job.submitting", "A remote job is being submitted.", { attempt }),
  jobEvent("job.submitted", "The provider accepted a remote job.", {
    videoId,
    attempt: number("from 1; 0 for a video found at the provider after its submit's answer was lost"),
    step: optional(step("which remote job: `submit` for the render, `captions` for its captioning, `overlay` for its text overlays"))
  }),
  jobEvent("job.progress", "A status check.", {
    videoId,
    progress: described(Schema.NullOr(Schema.Number), "0–100 or null"),
    status: text("the provider's, e.g. `PROCESSING`")
  }),
  jobEvent("job.rendered", "The provider finished the video.", { videoId }),
  jobEvent("job.downloading", "Its download starts.", {
    videoId,
    resumeFrom: number("bytes already on disk")
  }),
  jobEvent("job.completed", "The output is on disk.", {
    videoId,
    output: text("where it is: the output file's absolute path"),
    bytes: number("its size"),
    sharedWith: optional(text("the job whose render this copies"))
  }),
  jobEvent("job.retrying", "A step failed for a reason that may pass; it is tried again.", {
    step: step("the step being retried"),
    attempt,
    delayMs: number("the wait before the next attempt"),
    reason: text("why, in words"),
    throttled: optional(described(Schema.Boolean, "true for a 429: the provider's quota, no attempt spent"))
  }),
  jobEvent(
    "job.duplicateRisk",
    "A submit with an unknown outcome (it reached the server, the answer was lost) is retried: a second paid video may exist.",
    {
      reason: text("why, in words")
    }
  ),
  jobEvent("job.failed", "The job failed; the run goes on.", {
    step: step("the step that failed"),
    reason: text("why, in words"),
    code: optional(text("the provider's error code, when the video ended FAILED")),
    videoId: optional(videoId)
  }),
  jobEvent(
    "job.detached",
    "Still rendering (and billing) at the provider when the job's timeout passed: never resubmitted, the next run picks it up.",
    {
      videoId
    }
  ),
  runEvent("run.throttled", "A 429: requests of this kind wait.", {
    untilMs: number("epoch milliseconds: no request of this kind starts before then"),
    step: optional(step("the step that was refused"))
  }),
  runEvent("run.waiting", "The API does not answer (connection refused, 5xx in a row): the run waits and probes, no job fails for it.", {
    reason: text("why, in words"),
    sinceMs: number("epoch milliseconds: since when"),
    retryAtMs: number("epoch milliseconds: the next probe")
  }),
  runEvent("run.resumed", "The API answers again after an outage.", {
    downForMs: number("how long it did not answer")
  }),
  runEvent("run.warning", "Something to know that does not stop the run (a stale runner lock taken over, a torn journal line).", {
    message: text("what happened")
  }),
  runEvent("run.stopping", "The run stops submitting (Ctrl-C, the budget reached); what is in flight settles.", {
    reason: text("why")
  }),
  runEvent("run.finished", "The run is over: the last line of a run that ends normally or on Ctrl-C.", { summary: RunSummary })
).annotations({ identifier: "RunEvent", description: "An event of a run: one NDJSON line of `clapper run --json`." })
export type RunEvent = typeof RunEvent.Type

export type RunEventType = RunEvent["type"]
