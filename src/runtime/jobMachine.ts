/**
 * One job's step machine: (speech →) submit → poll (→ captions → poll) → download. Each step is
 * an Effect that reports through events and records its transitions; each remote stage is keyed
 * by its own fingerprint, so a resumed job redoes no finished stage. The machine's result is a
 * plain, serialisable outcome: a failure never escapes, so the other jobs go on.
 */
import { FileSystem, Path } from "@effect/platform"
import { Clock, Duration, Effect, Fiber, Option, Random, Ref } from "effect"
import { MirageClient } from "../mirage/MirageClient.ts"
import { failedVideoError, VideoFailed, type FileApiError, type MirageError } from "../mirage/MirageError.ts"
import type { RequestKind } from "../mirage/quotas.ts"
import type { Video } from "../mirage/Schemas.ts"
import { digestFile } from "../media/digest.ts"
import { lockEntryFor } from "../plan/lockEntry.ts"
import type { PlannedJob } from "../plan/plan.ts"
import { StateIoError } from "../state/journal.ts"
import type { RenderRecord, SubmitWindow } from "../state/journalEntry.ts"
import { recordedStart } from "../state/renderStart.ts"
import type { ApiHealth } from "./apiHealth.ts"
import { downloadToOutput } from "./download.ts"
import type { JobStep, RunEvent } from "./events.ts"
import { certainlyNotCreated, type CorruptDownload } from "./failureKind.ts"
import { nextPollDelay } from "./pollDelay.ts"
import { findSubmittedVideo } from "./reconcile.ts"
import type { Recorder } from "../state/recorder.ts"
import type { RequestGate } from "./requestGate.ts"
import { backoffMillis, retrying, type RetryNotice } from "./retry.ts"
import type { RunSettings } from "./runSettings.ts"
import type { RunStop } from "./runStop.ts"

export type JobOutcome =
  | { readonly _tag: "Completed"; readonly videoId: string; readonly bytes: number }
  /** The video exists at the provider and is not downloaded (`deliver: "base"`: overlays take it from here). */
  | { readonly _tag: "Rendered"; readonly videoId: string; readonly speechSha256?: string }
  | {
      readonly _tag: "Failed"
      readonly step: JobStep
      readonly reason: string
      readonly code?: string
      readonly videoId?: string
      /** The provider said `videoId` is of no use (FAILED, cancelled, gone): the next run renders again. */
      readonly videoGone?: boolean
    }
  | { readonly _tag: "Detached"; readonly videoId: string }
  | { readonly _tag: "Skipped" }
  /** The run stopped (the key refused, the state unwritable) while this job was in the machine: its progress says where. */
  | { readonly _tag: "Stopped" }

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

/**
 * One remote step that creates a video at the provider (the render, or its captioning): how to
 * create it, how to recognise it in the provider's list, and the fingerprint it is journaled under.
 */
export interface RemoteStage {
  readonly step: "submit" | "captions"
  /** Which quota its create request waits for. */
  readonly kind: RequestKind
  readonly fp: string
  readonly create: Effect.Effect<Video, FileApiError>
  readonly matches: (video: Video) => boolean
  readonly costUsd: number
}

export interface MachineContext {
  readonly settings: RunSettings
  readonly gate: RequestGate
  /** Told of every answer and every failure to get one: outages pause the run, not its jobs. */
  readonly health: ApiHealth
  /** Stops the whole run (the key refused, the state unwritable). */
  readonly runStop: RunStop
  /** How to name the key in a message: its environment variable (`MIRAGE_API_KEY`), or what gave it. */
  readonly keyName: string
  /** A warning said once per run, whatever number of jobs meet it (e.g. an unknown status). */
  readonly warnOnce: (key: string, message: string) => Effect.Effect<void>
  readonly uploads: Effect.Semaphore
  readonly downloads: Effect.Semaphore
  readonly emit: (event: RunEvent) => Effect.Effect<void>
  /** Set once Ctrl-C arrives: no new submission starts. */
  readonly stopping: Ref.Ref<boolean>
  readonly progress: Ref.Ref<ReadonlyMap<string, JobProgress>>
  readonly possibleDuplicates: Ref.Ref<number>
  readonly spentUsd: Ref.Ref<number>
  readonly recorder: Recorder
  /**
   * Every video id known to belong to a job (from the journal and this run): never adopted twice.
   * A plain mutable set, shared by the run's fibers: copying it per video would be quadratic.
   */
  readonly claimed: Set<string>
  /**
   * Submits whose outcome is unknown and not yet reconciled, by job, with their time windows. A
   * video that one of them may have made is never adopted by another job: that would put the
   * wrong inputs in an output.
   */
  readonly unresolved: Map<string, SubmitWindow>
  /**
   * Windows of lost submits that were sent again without a match (this run's and the journal's):
   * the video such a submit may have made belongs to nobody, so none in these windows is adopted.
   */
  readonly orphanWindows: Array<SubmitWindow>
  /**
   * Submits hold one permit each; a reconciliation holds them all, so it lists the provider's
   * videos while no submit is in flight: every video in its window is then either claimed
   * (answered) or unresolved, and none can appear from a submit sent meanwhile.
   */
  readonly submitting: Effect.Semaphore
  /** When this run started: a job resumed from an earlier run gets its full timeout from here. */
  readonly startedAt: number
  /** What the journal knows of a remote job, by fingerprint: finished stages are not redone. */
  readonly stageRecord: (fp: string) => RenderRecord | undefined
  /** Where generated speech and intermediate videos are kept between stages and runs. */
  readonly cacheDir: string
}

const now = Effect.map(Clock.currentTimeMillis, (ms) => new Date(ms).toISOString())

/** Permits of `MachineContext.submitting`: more than submits can ever be in flight at once. */
export const submitPermits = 100_000

/** Statuses the provider documents for work not finished yet. */
const workingStatuses: ReadonlySet<string> = new Set(["QUEUED", "PROCESSING"])

type StepError = MirageError | CorruptDownload | StateIoError

/** What a reconciliation found in the provider's list. */
type Looked =
  | { readonly _tag: "Found"; readonly video: Video }
  /** The list was read and held no candidate: the lost submit made no video. */
  | { readonly _tag: "NothingThere" }
  /** The list could not be read, or held videos that could not be told apart. */
  | { readonly _tag: "Unsettled" }

class Resubmit {
  readonly _tag = "Resubmit"
  constructor(readonly error: VideoFailed) {}
}
/** The next submission would pass the run's budget: nothing more is submitted. */
class OverBudget {
  readonly _tag = "OverBudget"
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

/** The provider said the video is of no use: it FAILED, was cancelled, or is gone. */
const videoGone = (failure: StepFailed) => failure.videoId !== undefined && (failure.cause === "VideoFailed" || failure.cause === "NotFound" || failure.code === "cancelled")

export const runJob = (
  job: PlannedJob,
  ctx: MachineContext,
  start: MachineStart = { _tag: "Submit" },
  options: { readonly deliver: "download" | "base" } = { deliver: "download" }
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
        const until = notice.throttledUntil
        if (until !== undefined) yield* emit((at) => ({ type: "run.throttled", at, untilMs: until, step: notice.step }))
        yield* emit((at) => ({
          type: "job.retrying",
          job: id,
          at,
          step: notice.step,
          attempt: notice.attempt,
          delayMs: notice.delayMs,
          reason: notice.reason,
          ...(until !== undefined ? { throttled: true } : {})
        }))
      })
    /** One request of `step`, waiting for `kind`'s quota, retried as the run's policy says. */
    const retry = <A, E extends StepError>(step: JobStep, kind: RequestKind, attempt: (n: number) => Effect.Effect<A, E>, notify = onRetry) =>
      retrying({ step, kind, policy: ctx.settings.retry, gate: ctx.gate, health: ctx.health, onRetry: notify, attempt })
    /** A step's error as the job's failure; a state folder that cannot be written stays itself (it stops the run). */
    const stepFailed = (step: JobStep, videoId?: string) => (error: StepError): Effect.Effect<never, StepFailed | StateIoError> =>
      error._tag === "StateIoError"
        ? Effect.fail(error)
        : Effect.fail(new StepFailed(step, error.message, error._tag === "VideoFailed" ? error.code : undefined, videoId, error._tag))

    const claim = (videoId: string) => Effect.sync(() => void ctx.claimed.add(videoId))

    /**
     * One submit request. If the run is interrupted while it is unanswered, it may still finish
     * for `settleTime`: the video it creates is then recorded as in flight instead of lost.
     */
    const submitOnce = (stage: RemoteStage, attempt: number, intentAt: number) =>
      Effect.uninterruptibleMask((restore) =>
        Effect.gen(function* () {
          yield* setProgress({ _tag: "Submitting", attempt })
          yield* emit((at) => ({ type: "job.submitting", job: id, at, attempt }))
          const request = ctx.submitting.withPermits(1)(
            ctx.uploads.withPermits(1)(stage.create).pipe(
              // Claimed, or registered as unresolved, while the permit is still held: a
              // reconciliation sees this submit in flight, claimed or unresolved, never neither.
              Effect.tap((video) => claim(video.id)),
              Effect.tapError((error) =>
                certainlyNotCreated(error)
                  ? Effect.void
                  : Effect.map(Clock.currentTimeMillis, (now) => void ctx.unresolved.set(id, { from: intentAt, until: now }))
              )
            )
          )
          const fiber = yield* Effect.fork(restore(request))
          return yield* restore(Fiber.join(fiber)).pipe(
            Effect.onInterrupt(() =>
              Fiber.await(fiber).pipe(
                Effect.timeout(ctx.settings.settleTime),
                Effect.flatMap((exit) =>
                  exit._tag === "Success"
                    ? Effect.gen(function* () {
                        // Journaled like any answer, so the next run polls it instead of reconciling
                        // (a journal that cannot be written leaves the intent: the next run reconciles).
                        yield* setProgress({ _tag: "Submitted", videoId: exit.value.id })
                        yield* Effect.ignore(ctx.recorder.submitted({ job: id, fp: stage.fp }, exit.value.id, yield* Clock.currentTimeMillis))
                      })
                    : setProgress(undefined)
                ),
                Effect.catchTag("TimeoutException", () => Effect.zipRight(Fiber.interrupt(fiber), setProgress({ _tag: "UnknownOutcome" })))
              )
            )
          )
        })
      )

    /**
     * Looks for the video of a submit whose answer was lost, while no other submit is in flight
     * (see `MachineContext.submitting`), and adopts it only when no other lost submit could have
     * made it. The list is read with the step's retries; each attempt holds the permits only
     * while it lists.
     */
    const reconcile = (stage: RemoteStage, from: number, until: number) =>
      Effect.gen(function* () {
        const target = { job: id, fp: stage.fp }
        const looked = yield* retry("reconcile", "list", () =>
          ctx.submitting.withPermits(submitPermits)(
            Effect.suspend(() => {
              const others = [...ctx.unresolved].flatMap(([other, w]) => (other === id ? [] : [w]))
              return findSubmittedVideo({ from, until, matches: stage.matches, claimed: ctx.claimed }, [...others, ...ctx.orphanWindows])
            })
          ).pipe(Effect.provideService(MirageClient, client))
        ).pipe(
          Effect.map(({ adopt, candidates }): Looked => {
            if (Option.isSome(adopt)) return { _tag: "Found", video: adopt.value }
            // Videos that could not be told apart are nobody's from now on: adopting one later,
            // once the jobs that might own them have moved on, could give an output the wrong inputs.
            for (const video of candidates) ctx.claimed.add(video.id)
            return { _tag: candidates.length === 0 ? "NothingThere" : "Unsettled" }
          }),
          // The list cannot be read: nothing is known (resubmit, recorded as a possible duplicate).
          Effect.orElseSucceed((): Looked => ({ _tag: "Unsettled" }))
        )
        const at = yield* Clock.currentTimeMillis
        ctx.unresolved.delete(id)
        if (looked._tag === "Found") {
          yield* claim(looked.video.id)
          yield* ctx.recorder.adopted(target, looked.video.id, at)
          return looked.video
        }
        // Not settled (the list unread, or videos it could not tell apart): whatever this submit
        // made belongs to nobody, and no later reconciliation may adopt a video of its window.
        // A list that was read and showed nothing in the window settles it: no video was made.
        const window = looked._tag === "Unsettled" ? { from, until } : undefined
        if (window) ctx.orphanWindows.push(window)
        const reason = "a submit's outcome is unknown and no unclaimed video matches it: submitting again, a second video may exist"
        yield* ctx.recorder.possibleDuplicate(target, reason, window, at)
        yield* Ref.update(ctx.possibleDuplicates, (n) => n + 1)
        yield* emit((at) => ({ type: "job.duplicateRisk", job: id, at, reason }))
        return undefined
      })

    /** Commits the stage's estimated cost to the run's spend, unless that would pass the budget. */
    const reserve = (costUsd: number) =>
      Effect.flatMap(
        Ref.modify(ctx.spentUsd, (usd) => {
          const budget = ctx.settings.budgetUsd
          return budget !== undefined && usd + costUsd > budget + 1e-9 ? [false, usd] : [true, usd + costUsd]
        }),
        (ok) => (ok ? Effect.void : Effect.zipRight(Ref.set(ctx.stopping, true), Effect.fail(new OverBudget())))
      )
    const refund = (costUsd: number) => Ref.update(ctx.spentUsd, (usd) => usd - costUsd)

    /** One submission of `stage`: its request retried (transient failures) up to the step's attempts. */
    const submit = (stage: RemoteStage) =>
      Effect.gen(function* () {
        const target = { job: id, fp: stage.fp }
        if (yield* Ref.get(ctx.stopping)) return yield* Effect.fail(new OverBudget())
        yield* reserve(stage.costUsd)
        let used = 0
        let intentAt = 0
        /** Set when the last attempt's outcome is unknown: its window, to reconcile before sending again. */
        let unknown: { from: number; until: number } | undefined
        const video = yield* retrying({
          step: stage.step,
          kind: stage.kind,
          policy: ctx.settings.retry,
          gate: ctx.gate,
          health: ctx.health,
          onRetry: (notice) =>
            Effect.gen(function* () {
              if (notice.unknownOutcome) unknown = { from: intentAt, until: yield* Clock.currentTimeMillis }
              yield* onRetry(notice)
            }),
          attempt: (n) =>
            Effect.gen(function* () {
              used = n
              if (unknown !== undefined) {
                const adopted = yield* reconcile(stage, unknown.from, unknown.until)
                unknown = undefined
                if (adopted) return adopted
              }
              intentAt = yield* Clock.currentTimeMillis
              // Durable before the request goes out: a journal that cannot say so stops the run.
              yield* ctx.recorder.intent(target, intentAt)
              return yield* submitOnce(stage, n, intentAt)
            })
        }).pipe(
          Effect.tapError((error) =>
            // A refusal proves nothing was created; an unknown outcome stays in the journal for reconciliation.
            certainlyNotCreated(error)
              ? Effect.flatMap(Clock.currentTimeMillis, (at) =>
                  Effect.zipRight(refund(stage.costUsd), error._tag === "StateIoError" ? Effect.void : ctx.recorder.notSubmitted(target, at))
                )
              : Effect.void
          ),
          Effect.catchAll(stepFailed(stage.step))
        )
        const submittedAt = yield* Clock.currentTimeMillis
        // In flight before it is recorded: if the record cannot be written, the summary still says the video exists.
        yield* setProgress({ _tag: "Submitted", videoId: video.id })
        yield* ctx.recorder.submitted(target, video.id, submittedAt)
        yield* emit((at) => ({ type: "job.submitted", job: id, at, videoId: video.id, attempt: used, step: stage.step }))
        return { videoId: video.id, submittedAt }
      })

    /**
     * Polls until COMPLETE; FAILED → resubmit or fail; past the deadline → detach. Any other status
     * (QUEUED, PROCESSING, one the provider added since) is work in progress: an unknown one is
     * reported once, and never fails a render that is being paid for.
     */
    const poll = (videoId: string, submittedAt: number) =>
      Effect.gen(function* () {
        const interval = Duration.toMillis(ctx.settings.poll.interval)
        const maxInterval = Duration.toMillis(ctx.settings.poll.maxInterval)
        const deadline = submittedAt + Duration.toMillis(ctx.settings.timeout)
        let previousMs = 0
        let progress: number | null = null
        for (;;) {
          const current = yield* Clock.currentTimeMillis
          if (current >= deadline) return yield* Effect.fail(new Detach(videoId))
          const delay = nextPollDelay({ intervalMs: interval, maxIntervalMs: maxInterval, elapsedMs: current - submittedAt, progress, previousMs, unit: yield* Random.next })
          previousMs = delay
          yield* Effect.sleep(Math.min(delay, deadline - current))
          const video = yield* retry("poll", "status", () => client.getVideo(videoId)).pipe(Effect.catchAll(stepFailed("poll", videoId)))
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
            default:
              if (!workingStatuses.has(video.status)) {
                yield* ctx.warnOnce(
                  `status:${video.status}`,
                  `the provider answered a status Clapper does not know, "${video.status}" (first for ${videoId}); it is taken as work in progress until the job's timeout`
                )
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
            retry: (attempt) => retry("download", "content", () => attempt({ resumeFrom: 0 }))
          })
        })
      ).pipe(Effect.catchAll(stepFailed("download", videoId)))

    /** Text-to-speech, once per script and voice: the WAV is kept under the state folder. */
    const speak = (speech: NonNullable<PlannedJob["stages"]["speech"]>) =>
      Effect.gen(function* () {
        const fs = yield* FileSystem.FileSystem
        const path = yield* Path.Path
        const file = path.join(ctx.cacheDir, "speech", `${speech.fingerprint.replace(/^sha256:/, "")}.wav`)
        if (!(yield* fs.exists(file).pipe(Effect.orElseSucceed(() => false)))) {
          // The speech cache is in the state folder: one that cannot be written stops the run.
          const unwritable = (e: { readonly message: string }) =>
            new StateIoError({ file, operation: "write", reason: e.message, freeBytes: undefined })
          yield* fs.makeDirectory(path.dirname(file), { recursive: true }).pipe(Effect.mapError(unwritable))
          const temp = `${file}.part`
          yield* retry("speech", "speech", () => client.textToSpeech({ voiceId: speech.voice, text: speech.text, model: "mirage-audio-1", path: temp })).pipe(
            Effect.catchAll(stepFailed("speech"))
          )
          yield* fs.rename(temp, file).pipe(Effect.mapError(unwritable))
        }
        const unreadable = (e: { readonly message: string }) => new StateIoError({ file, operation: "read", reason: e.message, freeBytes: undefined })
        return { path: file, sha256: yield* digestFile(file).pipe(Effect.mapError(unreadable)) }
      })

    /** Where a stage starts: the resume decision for a plain job, else what the journal says of the stage. */
    const stageStart = (fp: string): MachineStart | { readonly _tag: "Done"; readonly videoId: string } => {
      if (fp === job.fingerprint && start._tag !== "Submit" && start._tag !== "Download") return start
      return recordedStart(ctx.stageRecord(fp))
    }

    /** Runs one remote stage to a finished video (submitting, reconciling, polling as needed). */
    const ensureRemote = (stage: RemoteStage) =>
      Effect.gen(function* () {
        let phase = stageStart(stage.fp)
        let resumed = phase._tag === "Poll"
        /** Renders of this stage that ended FAILED rate_limit_exceeded in this run (each resubmitted). */
        let failedRenders = 0
        for (;;) {
          switch (phase._tag) {
            case "Done":
              return phase.videoId
            case "Download":
            case "Submit": {
              const submitted = yield* submit(stage)
              phase = { _tag: "Poll", videoId: submitted.videoId, submittedAt: submitted.submittedAt }
              resumed = false
              break
            }
            case "Reconcile": {
              // The earlier run's submit may have taken up to a request timeout (plus the settle time) to land.
              const until = phase.intentAt + Duration.toMillis(ctx.settings.requestTimeout) + Duration.toMillis(ctx.settings.settleTime)
              const adopted = yield* reconcile(stage, phase.intentAt, until)
              phase = adopted ? { _tag: "Poll", videoId: adopted.id, submittedAt: adopted.created_at * 1000 } : { _tag: "Submit" }
              if (adopted) yield* emit((at) => ({ type: "job.submitted", job: id, at, videoId: adopted.id, attempt: 0 }))
              break
            }
            case "Poll": {
              const videoId = phase.videoId
              yield* claim(videoId)
              yield* setProgress({ _tag: "Submitted", videoId })
              // A render picked up from an earlier run gets a full timeout from now.
              const outcome = yield* poll(videoId, Math.max(phase.submittedAt, ctx.startedAt)).pipe(
                Effect.as("rendered" as const),
                Effect.tapErrorTag("Detach", (d) =>
                  Effect.flatMap(Clock.currentTimeMillis, (at) => ctx.recorder.detached({ job: id, fp: stage.fp }, d.videoId, at))
                ),
                Effect.catchIf(
                  (f): f is StepFailed => f._tag === "StepFailed" && resumed && providerLostIt(f),
                  () => Effect.succeed("resubmit" as const)
                ),
                Effect.catchTag("Resubmit", (r) =>
                  Effect.gen(function* () {
                    // A FAILED rate_limit_exceeded is worth another submission: at most `retry.attempts`
                    // renders per stage, counted apart from the submit request's own retries (a flaky
                    // network must not use up the renders, nor FAILED renders the request's retries),
                    // each after the same backoff as a retry: the provider said it was overloaded.
                    failedRenders += 1
                    if (failedRenders >= ctx.settings.retry.attempts) {
                      return yield* Effect.fail(new StepFailed("poll", `${r.error.message} (${failedRenders} renders failed)`, r.error.code, videoId))
                    }
                    const delayMs = backoffMillis(ctx.settings.retry, failedRenders, yield* Random.next)
                    yield* onRetry({ step: stage.step, attempt: failedRenders, delayMs, reason: r.error.message, unknownOutcome: false })
                    yield* Effect.sleep(delayMs)
                    return "resubmit" as const
                  })
                )
              )
              if (outcome === "resubmit") {
                phase = { _tag: "Submit" }
                break
              }
              yield* ctx.recorder.rendered({ job: id, fp: stage.fp }, videoId, yield* Clock.currentTimeMillis)
              yield* emit((at) => ({ type: "job.rendered", job: id, at, videoId }))
              return videoId
            }
          }
        }
      })

    /** Speech → video → captions: the finished video's id at the provider. */
    const renderChain = Effect.gen(function* () {
      const stages = job.stages
      const voice = stages.speech ? yield* speak(stages.speech) : undefined
      const audio = voice?.path ?? (job.job.audio as { path: string }).path
      const videoId = yield* ensureRemote({
        step: "submit",
        kind: "generation",
        fp: stages.video,
        create: client.createVideo({ image: job.job.image.path, audio, model: job.model }),
        matches: (video) => (video.model === null || video.model === job.model) && video.source_video_id === null,
        costUsd: job.costUsd.video
      })
      if (!stages.captions) return { videoId, speechSha256: voice?.sha256 }
      const captions = stages.captions
      const captionedId = yield* ensureRemote({
        step: "captions",
        kind: "captions",
        fp: captions.fingerprint,
        create: client.addCaptions({ templateId: captions.template, videoId }),
        matches: (video) => video.source_video_id === videoId && video.caption_template_id === captions.template,
        costUsd: job.costUsd.captions ?? 0
      })
      return { videoId: captionedId, speechSha256: voice?.sha256 }
    })

    /** The finished output of a job whose result is a single video at the provider. */
    const deliver = (videoId: string, speechSha256: string | undefined) =>
      Effect.gen(function* () {
        const downloaded = yield* download(videoId)
        const fs = yield* FileSystem.FileSystem
        const unreadable = (e: { readonly message: string }) => new StepFailed("download", `reading the downloaded ${job.output}: ${e.message}`, undefined, videoId)
        const info = yield* fs.stat(job.output).pipe(Effect.mapError(unreadable))
        const sha256 = yield* digestFile(job.output).pipe(Effect.mapError(unreadable))
        const mtimeMs = Option.match(info.mtime, { onNone: () => 0, onSome: (d) => d.getTime() })
        const facts = { sha256, size: downloaded.bytes, mtimeMs, ...(speechSha256 ? { speechSha256 } : {}) }
        yield* ctx.recorder.completed({ job: id, fp: job.fingerprint, videoId, entry: lockEntryFor(job, videoId, facts) }, facts, yield* Clock.currentTimeMillis)
        yield* setProgress(undefined)
        return { _tag: "Completed", videoId, bytes: downloaded.bytes } as JobOutcome
      })

    if (yield* Ref.get(ctx.stopping)) return { _tag: "Skipped" } as JobOutcome
    if (start._tag === "Download") {
      // A finished render recorded earlier; if the provider no longer has it, it is rendered again.
      const delivered = yield* deliver(start.videoId, undefined).pipe(
        Effect.catchIf(
          (f): f is StepFailed => f._tag === "StepFailed" && providerLostIt(f),
          () => Effect.succeed(undefined)
        )
      )
      if (delivered) return delivered
    }
    const finished = yield* renderChain
    if (options.deliver === "base") {
      return { _tag: "Rendered", videoId: finished.videoId, ...(finished.speechSha256 ? { speechSha256: finished.speechSha256 } : {}) } as JobOutcome
    }
    return yield* deliver(finished.videoId, finished.speechSha256)
  }).pipe(
    Effect.catchTags({
      StepFailed: (f: StepFailed): Effect.Effect<JobOutcome, never, MirageClient> =>
        f.cause === "Unauthorized"
          ? Effect.flatMap(MirageClient, (client) => {
              const status = /\(HTTP (\d+)\)/.exec(f.reason)?.[1]
              const message = `${ctx.keyName} was refused by ${client.baseUrl}${status ? ` (HTTP ${status})` : ""}: check the key. Nothing more was sent.`
              return Effect.as(ctx.runStop.stop({ _tag: "KeyRefused", message }), { _tag: "Stopped" } as JobOutcome)
            })
          : Effect.succeed({
              _tag: "Failed",
              step: f.step,
              reason: f.reason,
              ...(f.code !== undefined ? { code: f.code } : {}),
              ...(f.videoId !== undefined ? { videoId: f.videoId } : {}),
              ...(videoGone(f) ? { videoGone: true } : {})
            }),
      StateIoError: (e: StateIoError): Effect.Effect<JobOutcome> =>
        Effect.as(ctx.runStop.stop({ _tag: "StateUnwritable", message: e.message }), { _tag: "Stopped" } as JobOutcome),
      Detach: (d: Detach): Effect.Effect<JobOutcome> => Effect.succeed({ _tag: "Detached", videoId: d.videoId }),
      OverBudget: (): Effect.Effect<JobOutcome> => Effect.succeed({ _tag: "Skipped" })
    })
  )
