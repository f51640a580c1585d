/**
 * One job's step machine: submit → poll → download. Each step is an Effect that reports through
 * events; the machine's result is a plain, serialisable outcome. A failure never escapes: it
 * becomes a `Failed` outcome so the other jobs go on.
 */
import { FileSystem, Path } from "@effect/platform"
import { Clock, Duration, Effect, Fiber, Option, Random, Ref } from "effect"
import { MirageClient } from "../mirage/MirageClient.ts"
import { failedVideoError, VideoFailed, type MirageError } from "../mirage/MirageError.ts"
import type { PlannedJob } from "../plan/plan.ts"
import { downloadToOutput } from "./download.ts"
import type { JobStep, RunEvent } from "./events.ts"
import type { CorruptDownload } from "./failureKind.ts"
import { digestFile } from "../plan/inspectInputs.ts"
import { failureKind } from "./failureKind.ts"
import { nextPollDelay } from "./pollDelay.ts"
import { findSubmittedVideo } from "./reconcile.ts"
import type { Recorder } from "./recorder.ts"
import type { RequestGate } from "./requestGate.ts"
import { retrying, type RetryNotice } from "./retry.ts"
import type { RunSettings } from "./runSettings.ts"

export type JobOutcome =
  | { readonly _tag: "Completed"; readonly videoId: string; readonly bytes: number }
  | { readonly _tag: "Failed"; readonly step: JobStep; readonly reason: string; readonly code?: string; readonly videoId?: string }
  | { readonly _tag: "Detached"; readonly videoId: string }
  | { readonly _tag: "Skipped" }

/** What the run keeps per job while it is in the machine, so an interrupted run can say what is in flight. */
export type JobProgress =
  | { readonly _tag: "Submitting"; readonly attempt: number }
  | { readonly _tag: "Submitted"; readonly videoId: string }
  /** Interrupted while a submit was unanswered: a video may or may not exist. */
  | { readonly _tag: "UnknownOutcome" }

/** Where a job's machine starts: from nothing, or from what an earlier run left. */
export type MachineStart =
  | { readonly _tag: "Submit" }
  /** A submit was announced at `intentAt` and never answered: look for its video first. */
  | { readonly _tag: "Reconcile"; readonly intentAt: number }
  | { readonly _tag: "Poll"; readonly videoId: string; readonly submittedAt: number }
  | { readonly _tag: "Download"; readonly videoId: string }

export interface MachineContext {
  readonly settings: RunSettings
  readonly gate: RequestGate
  readonly uploads: Effect.Semaphore
  readonly downloads: Effect.Semaphore
  readonly emit: (event: RunEvent) => Effect.Effect<void>
  /** Set once Ctrl-C arrives: no new submission starts. */
  readonly stopping: Ref.Ref<boolean>
  readonly progress: Ref.Ref<ReadonlyMap<string, JobProgress>>
  readonly possibleDuplicates: Ref.Ref<number>
  readonly spentUsd: Ref.Ref<number>
  readonly recorder: Recorder
  /** Every video id known to belong to a job (from the journal and this run): never adopted twice. */
  readonly claimed: Ref.Ref<ReadonlySet<string>>
  /** Submits sent and not yet answered, by job, with when they were announced. */
  readonly pendingSubmits: Ref.Ref<ReadonlyMap<string, number>>
  /** When this run started: a job resumed from an earlier run gets its full timeout from here. */
  readonly startedAt: number
}

const now = Effect.map(Clock.currentTimeMillis, (ms) => new Date(ms).toISOString())

/** Statuses the client does not know are tolerated this many times in a row, then the job fails. */
const unknownStatusTolerance = 3

type StepError = MirageError | CorruptDownload

class Resubmit {
  readonly _tag = "Resubmit"
  constructor(readonly error: VideoFailed) {}
}
class Detach {
  readonly _tag = "Detach"
  constructor(readonly videoId: string) {}
}
class StepFailed {
  readonly _tag = "StepFailed"
  constructor(
    readonly step: JobStep,
    readonly reason: string,
    readonly code?: string,
    readonly videoId?: string,
    /** The client error behind it, when there is one. */
    readonly cause?: StepError["_tag"]
  ) {}
}

/** A render an earlier run recorded that the provider no longer knows: it is rendered again. */
const providerLostIt = (failure: StepFailed) => failure.cause === "NotFound"

export const runJob = (
  job: PlannedJob,
  ctx: MachineContext,
  start: MachineStart = { _tag: "Submit" }
): Effect.Effect<JobOutcome, never, MirageClient | FileSystem.FileSystem | Path.Path> =>
  Effect.gen(function* () {
    const client = yield* MirageClient
    const id = job.id
    const emit = (event: (at: string) => RunEvent) => Effect.flatMap(now, (at) => ctx.emit(event(at)))
    const setProgress = (p: JobProgress | undefined) =>
      Ref.update(ctx.progress, (m) => {
        const next = new Map(m)
        if (p === undefined) next.delete(id)
        else next.set(id, p)
        return next
      })
    const onRetry = (notice: RetryNotice) =>
      Effect.gen(function* () {
        const until = notice.pausedUntil
        if (until !== undefined) yield* emit((at) => ({ type: "run.throttled", at, untilMs: until }))
        yield* emit((at) => ({ type: "job.retrying", job: id, at, step: notice.step, attempt: notice.attempt, delayMs: notice.delayMs, reason: notice.reason }))
      })
    const stepFailed = (step: JobStep, videoId?: string) => (error: StepError) =>
      Effect.fail(new StepFailed(step, error.message, error._tag === "VideoFailed" ? error.code : undefined, videoId, error._tag))

    /**
     * One submit request. If the run is interrupted while it is unanswered, it may still finish
     * for `settleTime`: the video it creates is then recorded as in flight instead of lost.
     */
    const submitOnce = (attempt: number) =>
      Effect.uninterruptibleMask((restore) =>
        Effect.gen(function* () {
          yield* setProgress({ _tag: "Submitting", attempt })
          yield* emit((at) => ({ type: "job.submitting", job: id, at, attempt }))
          const request = ctx.uploads.withPermits(1)(
            client.createVideo({ image: job.job.image.path, audio: job.job.audio.path, model: job.model })
          )
          const fiber = yield* Effect.fork(restore(request))
          return yield* restore(Fiber.join(fiber)).pipe(
            Effect.onInterrupt(() =>
              Fiber.await(fiber).pipe(
                Effect.timeout(ctx.settings.settleTime),
                Effect.flatMap((exit) =>
                  exit._tag === "Success" ? setProgress({ _tag: "Submitted", videoId: exit.value.id }) : setProgress(undefined)
                ),
                Effect.catchTag("TimeoutException", () => Effect.zipRight(Fiber.interrupt(fiber), setProgress({ _tag: "UnknownOutcome" })))
              )
            )
          )
        })
      )

    const claim = (videoId: string) => Ref.update(ctx.claimed, (ids) => new Set(ids).add(videoId))
    const setPending = (intentAt: number | undefined) =>
      Ref.update(ctx.pendingSubmits, (m) => {
        const next = new Map(m)
        if (intentAt === undefined) next.delete(id)
        else next.set(id, intentAt)
        return next
      })

    /**
     * Looks for the video of a submit whose answer was lost. Waits first for other submits sent
     * in the same window to be answered, so their videos are claimed and not mistaken for this one.
     */
    const reconcile = (from: number, until: number) =>
      Effect.gen(function* () {
        for (let waited = 0; waited < Duration.toMillis(ctx.settings.settleTime) * 4; waited += 50) {
          const pending = yield* Ref.get(ctx.pendingSubmits)
          if (![...pending].some(([other, at]) => other !== id && at <= until)) break
          yield* Effect.sleep(50)
        }
        const found = yield* findSubmittedVideo({ from, until, model: job.model, claimed: yield* Ref.get(ctx.claimed) }).pipe(
          Effect.provideService(MirageClient, client),
          // The list cannot be read: treat it as no match (resubmit, recorded as a possible duplicate).
          Effect.orElseSucceed(() => Option.none())
        )
        const at = yield* Clock.currentTimeMillis
        if (Option.isSome(found)) {
          yield* claim(found.value.id)
          yield* ctx.recorder.adopted(job, found.value.id, at)
          return found.value
        }
        const reason = "a submit's outcome is unknown and no unclaimed video matches it: submitting again, a second video may exist"
        yield* ctx.recorder.possibleDuplicate(job, reason, at)
        yield* Ref.update(ctx.possibleDuplicates, (n) => n + 1)
        yield* emit((at) => ({ type: "job.duplicateRisk", job: id, at, reason }))
        return undefined
      })

    const submit = (spent: number) =>
      Effect.gen(function* () {
        let used = 0
        let intentAt = 0
        /** Set when the last attempt's outcome is unknown: its window, to reconcile before sending again. */
        let unknown: { from: number; until: number } | undefined
        const video = yield* retrying({
          step: "submit",
          policy: ctx.settings.retry,
          gate: ctx.gate,
          onRetry: (notice) =>
            Effect.gen(function* () {
              if (notice.unknownOutcome) unknown = { from: intentAt, until: yield* Clock.currentTimeMillis }
              yield* onRetry(notice)
            }),
          spent,
          attempt: (n) =>
            Effect.gen(function* () {
              used = n - spent
              if (unknown !== undefined) {
                const adopted = yield* reconcile(unknown.from, unknown.until)
                unknown = undefined
                if (adopted) return adopted
              }
              intentAt = yield* Clock.currentTimeMillis
              yield* ctx.recorder.intent(job, intentAt)
              yield* setPending(intentAt)
              return yield* submitOnce(n).pipe(
                Effect.tap((video) => claim(video.id)),
                Effect.ensuring(setPending(undefined))
              )
            })
        }).pipe(
          Effect.tapError((error) =>
            // A refusal proves nothing was created; an unknown outcome stays in the journal for reconciliation.
            failureKind(error, "submit")._tag === "Fatal" || (failureKind(error, "submit") as { unknownOutcome?: boolean }).unknownOutcome === false
              ? Effect.flatMap(Clock.currentTimeMillis, (at) => ctx.recorder.notSubmitted(job, at))
              : Effect.void
          ),
          Effect.catchAll(stepFailed("submit"))
        )
        const submittedAt = yield* Clock.currentTimeMillis
        yield* ctx.recorder.submitted(job, video.id, submittedAt)
        yield* setProgress({ _tag: "Submitted", videoId: video.id })
        yield* Ref.update(ctx.spentUsd, (usd) => usd + job.estimatedCostUsd)
        yield* emit((at) => ({ type: "job.submitted", job: id, at, videoId: video.id, attempt: spent + used }))
        return { videoId: video.id, submittedAt, used }
      })

    /** Polls until COMPLETE; FAILED → resubmit or fail; past the deadline → detach. */
    const poll = (videoId: string, submittedAt: number) =>
      Effect.gen(function* () {
        const interval = Duration.toMillis(ctx.settings.poll.interval)
        const maxInterval = Duration.toMillis(ctx.settings.poll.maxInterval)
        const deadline = submittedAt + Duration.toMillis(ctx.settings.timeout)
        let previousMs = 0
        let progress: number | null = null
        let unknownStatuses = 0
        for (;;) {
          const current = yield* Clock.currentTimeMillis
          if (current >= deadline) return yield* Effect.fail(new Detach(videoId))
          const delay = nextPollDelay({ intervalMs: interval, maxIntervalMs: maxInterval, elapsedMs: current - submittedAt, progress, previousMs, unit: yield* Random.next })
          previousMs = delay
          yield* Effect.sleep(Math.min(delay, deadline - current))
          const video = yield* retrying({
            step: "poll",
            policy: ctx.settings.retry,
            gate: ctx.gate,
            onRetry,
            attempt: () => client.getVideo(videoId)
          }).pipe(Effect.catchAll(stepFailed("poll", videoId)))
          progress = video.progress
          yield* emit((at) => ({ type: "job.progress", job: id, at, videoId, progress: video.progress, status: video.status }))
          switch (video.status) {
            case "COMPLETE":
              return
            case "FAILED": {
              const error = failedVideoError(video)
              if (error.code === "rate_limit_exceeded") return yield* Effect.fail(new Resubmit(error))
              return yield* stepFailed("poll", videoId)(error)
            }
            case "CANCELLED":
              return yield* Effect.fail(new StepFailed("poll", `the video was cancelled at the provider`, "cancelled", videoId))
            case "PROCESSING":
              unknownStatuses = 0
              break
            default:
              unknownStatuses++
              if (unknownStatuses > unknownStatusTolerance) {
                return yield* Effect.fail(new StepFailed("poll", `the provider keeps answering an unknown status "${video.status}"`, undefined, videoId))
              }
          }
        }
      })

    const download = (videoId: string) =>
      ctx.downloads.withPermits(1)(
        Effect.gen(function* () {
          yield* emit((at) => ({ type: "job.downloading", job: id, at, videoId, resumeFrom: 0 }))
          return yield* downloadToOutput({
            videoId,
            output: job.output,
            retry: (attempt) =>
              retrying({ step: "download", policy: ctx.settings.retry, gate: ctx.gate, onRetry, attempt: () => attempt({ resumeFrom: 0 }) })
          })
        })
      ).pipe(Effect.catchAll(stepFailed("download", videoId)))

    if (yield* Ref.get(ctx.stopping)) return { _tag: "Skipped" } as JobOutcome
    let spent = 0
    let phase: MachineStart = start
    for (;;) {
      switch (phase._tag) {
        case "Submit": {
          const submitted = yield* submit(spent)
          spent += submitted.used
          phase = { _tag: "Poll", videoId: submitted.videoId, submittedAt: submitted.submittedAt }
          break
        }
        case "Reconcile": {
          // The earlier run's submit may have taken up to a request timeout (plus the settle time) to land.
          const until = phase.intentAt + Duration.toMillis(ctx.settings.requestTimeout) + Duration.toMillis(ctx.settings.settleTime)
          const adopted = yield* reconcile(phase.intentAt, until)
          phase = adopted ? { _tag: "Poll", videoId: adopted.id, submittedAt: adopted.created_at * 1000 } : { _tag: "Submit" }
          if (adopted) {
            yield* setProgress({ _tag: "Submitted", videoId: adopted.id })
            yield* emit((at) => ({ type: "job.submitted", job: id, at, videoId: adopted.id, attempt: 0 }))
          }
          break
        }
        case "Poll": {
          const videoId = phase.videoId
          yield* claim(videoId)
          yield* setProgress({ _tag: "Submitted", videoId })
          // A render picked up from an earlier run gets a full timeout from now.
          const resumed = start._tag === "Poll" && spent === 0
          const outcome = yield* poll(videoId, Math.max(phase.submittedAt, ctx.startedAt)).pipe(
            Effect.as("rendered" as const),
            Effect.catchIf(
              (f): f is StepFailed => f._tag === "StepFailed" && resumed && providerLostIt(f),
              () => Effect.succeed("resubmit" as const)
            ),
            Effect.catchTag("Resubmit", (r) =>
              Effect.gen(function* () {
                // A FAILED rate_limit_exceeded is worth another submission; it counts as an attempt.
                if (spent >= ctx.settings.retry.attempts) return yield* Effect.fail(new StepFailed("poll", r.error.message, r.error.code, videoId))
                yield* onRetry({ step: "submit", attempt: spent, delayMs: 0, reason: r.error.message, unknownOutcome: false })
                return "resubmit" as const
              })
            )
          )
          if (outcome === "resubmit") {
            phase = { _tag: "Submit" }
            break
          }
          yield* ctx.recorder.rendered(job, videoId, yield* Clock.currentTimeMillis)
          yield* emit((at) => ({ type: "job.rendered", job: id, at, videoId }))
          phase = { _tag: "Download", videoId }
          break
        }
        case "Download": {
          const videoId = phase.videoId
          const downloaded = yield* download(videoId).pipe(
            // A render an earlier run recorded that the provider no longer has: render it again.
            Effect.catchIf(
              (f) => start._tag === "Download" && spent === 0 && providerLostIt(f),
              () => Effect.succeed(undefined)
            )
          )
          if (!downloaded) {
            phase = { _tag: "Submit" }
            break
          }
          const fs = yield* FileSystem.FileSystem
          const info = yield* fs.stat(job.output).pipe(Effect.orDie)
          const sha256 = yield* digestFile(job.output).pipe(Effect.orDie)
          const mtimeMs = Option.match(info.mtime, { onNone: () => 0, onSome: (d) => d.getTime() })
          yield* ctx.recorder.completed(job, videoId, { sha256, size: downloaded.bytes, mtimeMs }, yield* Clock.currentTimeMillis)
          yield* setProgress(undefined)
          return { _tag: "Completed", videoId, bytes: downloaded.bytes } as JobOutcome
        }
      }
    }
  }).pipe(
    Effect.catchTags({
      StepFailed: (f: StepFailed): Effect.Effect<JobOutcome> =>
        Effect.succeed({
          _tag: "Failed",
          step: f.step,
          reason: f.reason,
          ...(f.code !== undefined ? { code: f.code } : {}),
          ...(f.videoId !== undefined ? { videoId: f.videoId } : {})
        }),
      Detach: (d: Detach): Effect.Effect<JobOutcome> => Effect.succeed({ _tag: "Detached", videoId: d.videoId })
    })
  )
