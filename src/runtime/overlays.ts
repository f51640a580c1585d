/**
 * Overlay variants of one base video, on the same pieces as every other job: the base is
 * rendered (and captioned) once by the step machine, downloaded once (within the download limit,
 * verified as an MP4), then sent with at most 4 texts per request. Each batch is journaled like a
 * render (intent, answer, detached, rendered), polled with the job's deadline and adaptive delays,
 * its requests retried with the run's policy and reported as events; each variant's result is
 * downloaded and verified like any output. A resumed run polls a batch it knows, never sends it
 * again.
 */
import { FileSystem, Path } from "@effect/platform"
import { Clock, Duration, Effect, Random, Ref } from "effect"
import { MirageClient } from "../mirage/MirageClient.ts"
import { limits } from "../mirage/limits.ts"
import type { TextOverlay } from "../mirage/schemas.ts"
import { fingerprint } from "../plan/fingerprint.ts"
import type { PlannedJob } from "../plan/plan.ts"
import type { RenderPlan } from "../plan/resume.ts"
import type { StateIoError } from "../state/journal.ts"
import { recordedStart } from "../state/renderStart.ts"
import { placeOutput, recordOutput } from "./deliver.ts"
import { downloadToOutput } from "./download.ts"
import { failureOutcome, runJob } from "./jobMachine.ts"
import { makeJobScope, type JobScope } from "./jobScope.ts"
import type { JobOutcome, MachineContext } from "./machineContext.ts"
import { nextPollDelay } from "./pollDelay.ts"
import { settleOnInterrupt } from "./settle.ts"
import { Detach, StepFailed } from "./stepErrors.ts"
import { noteWorkingStatus } from "./workingStatus.ts"

/** How the scheduler is told each job's outcome. */
export type Report = (job: PlannedJob, outcome: JobOutcome) => Effect.Effect<void>

const failedOutcome = (f: StepFailed): JobOutcome => ({
  _tag: "Failed",
  step: f.step,
  reason: f.reason,
  ...(f.code !== undefined ? { code: f.code } : {}),
  ...(f.videoId !== undefined ? { videoId: f.videoId } : {})
})

/** The base video, downloaded once into the state folder's cache for every batch to upload. */
const baseFileOf = (scope: JobScope, videoId: string) =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const key = scope.job.stages.captions?.fingerprint ?? scope.job.stages.video
    const file = path.join(scope.ctx.cacheDir, "base", `${key.replace(/^sha256:/, "")}.mp4`)
    if (yield* fs.exists(file).pipe(Effect.orElseSucceed(() => false))) return file
    yield* scope.ctx.downloads
      .withPermits(1)(downloadToOutput({ videoId, output: file, retry: (attempt) => scope.retry("download", "content", attempt) }))
      .pipe(Effect.catchAll(scope.stepFailed("download", videoId)))
    return file
  })

/** Polls an overlay batch until it is done, within the deadline (past it: detached, never sent again). */
const pollBatch = (scope: JobScope, jobs: ReadonlyArray<PlannedJob>, overlayId: string, submittedAt: number) =>
  Effect.gen(function* () {
    const { ctx, client } = scope
    const interval = Duration.toMillis(ctx.settings.poll.interval)
    const maxInterval = Duration.toMillis(ctx.settings.poll.maxInterval)
    const deadline = Math.max(submittedAt, ctx.startedAt) + Duration.toMillis(ctx.settings.timeout)
    let previousMs = 0
    for (let first = true; ; first = false) {
      const current = yield* Clock.currentTimeMillis
      if (current >= deadline) return yield* Effect.fail(new Detach({ videoId: overlayId }))
      if (!first) {
        const delay = nextPollDelay({
          intervalMs: interval,
          maxIntervalMs: maxInterval,
          elapsedMs: current - submittedAt,
          progress: null,
          previousMs,
          unit: yield* Random.next
        })
        previousMs = delay
        yield* Effect.sleep(Math.min(delay, deadline - current))
      }
      const batch: TextOverlay = yield* scope
        .retry("poll", "status", () => client.getTextOverlay(overlayId))
        .pipe(Effect.catchAll(scope.stepFailed("poll", overlayId)))
      yield* Effect.forEach(
        jobs,
        (job) => scope.emit((at) => ({ type: "job.progress", job: job.id, at, videoId: overlayId, progress: null, status: batch.status })),
        { discard: true }
      )
      if (batch.status === "COMPLETE") return batch
      if (batch.status === "FAILED" || batch.status === "CANCELLED") {
        const detail = batch.error ? `: ${batch.error.message}` : ""
        // The batch is of no use: recorded as gone, so the next run sends it again.
        return yield* Effect.fail(
          new StepFailed({
            step: "overlay",
            reason: `the overlay job ${overlayId} ended ${batch.status}${detail}`,
            videoId: overlayId,
            cause: "VideoFailed"
          })
        )
      }
      yield* noteWorkingStatus(ctx, "overlay status", batch.status, overlayId)
    }
  })

/** The overlay job is of no use (FAILED, or a variant missing): the next run sends the batch again. */
const recordBatchGone = (scope: JobScope, target: { readonly job: string; readonly fp: string }, overlayId: string, reason: string) =>
  Effect.flatMap(Clock.currentTimeMillis, (at) =>
    scope.ctx.recorder.failed(target, { step: "overlay", reason, videoId: overlayId, videoGone: true }, at)
  )

/** Sends one batch (or picks up the one the journal knows) and answers its finished overlay job. */
const renderBatch = (scope: JobScope, chunk: ReadonlyArray<RenderPlan>, baseFile: string, batchFp: string) =>
  Effect.gen(function* () {
    const { ctx, client, job } = scope
    const target = { job: job.id, fp: batchFp }
    const leaders = chunk.flatMap((r) => (r.needing[0] ? [r.needing[0]] : []))
    const known = recordedStart(ctx.stageRecord(batchFp))
    let overlayId: string
    let submittedAt: number
    if (known._tag === "Done" || known._tag === "Poll") {
      overlayId = known.videoId
      submittedAt = known._tag === "Poll" ? known.submittedAt : ctx.startedAt
    } else {
      if (yield* Ref.get(ctx.stopping)) return undefined
      // No list endpoint to reconcile a lost overlay request with: it is sent again, recorded.
      if (known._tag === "Reconcile") {
        const reason =
          "an overlay request's outcome is unknown and overlays cannot be looked up: sending it again, a second overlay job may exist"
        yield* ctx.recorder.possibleDuplicate(target, reason, undefined, yield* Clock.currentTimeMillis)
        yield* Ref.update(ctx.possibleDuplicates, (n) => n + 1)
        yield* scope.emit((at) => ({ type: "job.duplicateRisk", job: job.id, at, reason }))
      }
      const items = chunk.map((r) => {
        const o = r.needing[0]?.stages.overlay
        return {
          text: o?.text ?? "",
          ...(o?.font ? { font: o.font } : {}),
          ...(o?.size ? { size: o.size } : {}),
          ...(o?.color ? { color: o.color } : {})
        }
      })
      yield* ctx.recorder.intent(target, yield* Clock.currentTimeMillis)
      const request = ctx.uploads.withPermits(1)(
        scope.retry("overlay", "overlays", () => client.createTextOverlay({ videoPath: baseFile, items }))
      )
      const created = yield* settleOnInterrupt(request, {
        settleTime: ctx.settings.settleTime,
        settled: (exit) =>
          exit._tag === "Success"
            ? Effect.flatMap(Clock.currentTimeMillis, (at) => Effect.ignore(ctx.recorder.submitted(target, exit.value.id, at)))
            : Effect.void,
        lost: Effect.void
      }).pipe(Effect.catchAll(scope.stepFailed("overlay")))
      overlayId = created.id
      submittedAt = yield* Clock.currentTimeMillis
      yield* ctx.recorder.submitted(target, overlayId, submittedAt)
      yield* Effect.forEach(
        leaders,
        (leader) => scope.emit((at) => ({ type: "job.submitted", job: leader.id, at, videoId: overlayId, attempt: 1, step: "overlay" })),
        { discard: true }
      )
    }
    const batch = yield* pollBatch(scope, leaders, overlayId, submittedAt).pipe(
      Effect.tapErrorTag("Detach", (d: Detach) =>
        Effect.flatMap(Clock.currentTimeMillis, (at) => ctx.recorder.detached(target, d.videoId, at))
      ),
      Effect.tapErrorTag("StepFailed", (f: StepFailed) => recordBatchGone(scope, target, overlayId, f.reason))
    )
    yield* ctx.recorder.rendered(target, { videoId: overlayId }, yield* Clock.currentTimeMillis)
    // A batch with a variant that did not complete is sent again next time (for those variants
    // only: the others are then up to date, so the batch is another one).
    if (batch.results?.some((r) => r.status !== "COMPLETE" || !r.video_url))
      yield* recordBatchGone(scope, target, overlayId, "a variant did not complete")
    return batch
  })

/** Each variant's result downloaded (verified) to its output, copied to the outputs that share it. */
const deliverVariants = (
  scope: JobScope,
  chunk: ReadonlyArray<RenderPlan>,
  batch: TextOverlay,
  speechSha256: string | undefined,
  report: Report
) =>
  Effect.forEach(
    chunk.entries(),
    ([index, render]) =>
      Effect.gen(function* () {
        const [leader, ...followers] = render.needing
        if (!leader) return
        const result = batch.results?.find((r) => r.index === index)
        const url = result?.status === "COMPLETE" ? result.video_url : undefined
        const outcome: JobOutcome = !url
          ? failedOutcome(
              new StepFailed({
                step: "overlay",
                reason: `overlay ${index} of ${batch.id} did not complete${result?.error ? `: ${result.error.message}` : ""}`,
                videoId: batch.id
              })
            )
          : yield* scope.ctx.downloads
              .withPermits(1)(
                Effect.zipRight(
                  scope.emit((at) => ({ type: "job.downloading", job: leader.id, at, videoId: batch.id, resumeFrom: 0 })),
                  downloadToOutput({
                    videoId: batch.id,
                    output: leader.output,
                    source: (into) => scope.client.downloadUrl(url, into),
                    retry: (attempt) => scope.retry("download", "content", attempt)
                  })
                )
              )
              .pipe(
                Effect.catchAll(scope.stepFailed("download", batch.id)),
                Effect.zipRight(recordOutput(scope.ctx, leader, batch.id, { speechSha256 })),
                Effect.catchTag("StepFailed", (f) => failureOutcome(scope, f))
              )
        yield* report(leader, outcome)
        for (const follower of followers) {
          const shared =
            outcome._tag === "Completed"
              ? yield* placeOutput(scope.ctx, leader.output, follower, batch.id, { move: false, sharedWith: leader.id, speechSha256 })
              : outcome
          yield* report(follower, shared)
        }
      }),
    { discard: true }
  )

/** The batches a group of variants is rendered in (at most 4 texts each), and the fingerprint each is recorded under. */
const overlayBatches = (group: ReadonlyArray<RenderPlan>) => {
  const first = group[0]?.needing[0]
  if (!first) return []
  const baseKey = first.stages.captions?.fingerprint ?? first.stages.video
  const batches: Array<{ readonly chunk: ReadonlyArray<RenderPlan>; readonly fp: string }> = []
  for (let i = 0; i < group.length; i += limits.maxOverlayTexts) {
    const chunk = group.slice(i, i + limits.maxOverlayTexts)
    batches.push({
      chunk,
      fp: fingerprint({ model: first.model, image: baseKey, audio: "", stages: { overlays: chunk.map((r) => r.fingerprint) } })
    })
  }
  return batches
}

/** The fingerprints a group's overlay batches are recorded under. */
export const overlayBatchFingerprints = (group: ReadonlyArray<RenderPlan>) => overlayBatches(group).map((b) => b.fp)

/** Every variant of one base video: the base once, then batches of at most 4 texts. */
export const runOverlayGroup = (
  group: ReadonlyArray<RenderPlan>,
  ctx: MachineContext,
  report: Report
): Effect.Effect<void, never, MirageClient | FileSystem.FileSystem | Path.Path> =>
  Effect.gen(function* () {
    const first = group[0]?.needing[0]
    if (!first) return
    const everyone = (chunk: ReadonlyArray<RenderPlan>) => chunk.flatMap((r) => r.needing)
    const finish = (chunk: ReadonlyArray<RenderPlan>, outcome: JobOutcome) =>
      Effect.forEach(everyone(chunk), (job) => report(job, outcome), { discard: true })
    const base = yield* runJob(first, ctx, { _tag: "Submit" }, { deliver: "base" })
    if (base._tag !== "Rendered") return yield* finish(group, base)
    const scope = yield* makeJobScope(first, ctx)
    const stateStops = (e: StateIoError) =>
      Effect.as(ctx.runStop.stop({ _tag: "StateUnwritable", message: e.message }), { _tag: "Stopped" } as JobOutcome)
    const baseFile = yield* baseFileOf(scope, base.videoId).pipe(
      Effect.catchTags({
        StepFailed: (f) =>
          Effect.as(
            Effect.flatMap(failureOutcome(scope, f), (o) => finish(group, o)),
            undefined
          ),
        StateIoError: (e) => Effect.flatMap(stateStops(e), (o) => Effect.as(finish(group, o), undefined))
      })
    )
    if (baseFile === undefined) return
    for (const { chunk, fp: batchFp } of overlayBatches(group)) {
      yield* renderBatch(scope, chunk, baseFile, batchFp).pipe(
        Effect.flatMap((batch) =>
          batch ? deliverVariants(scope, chunk, batch, base.speechSha256, report) : finish(chunk, { _tag: "Skipped" })
        ),
        Effect.catchTags({
          StepFailed: (f) => Effect.flatMap(failureOutcome(scope, f), (outcome) => finish(chunk, outcome)),
          Detach: (d) => finish(chunk, { _tag: "Detached", videoId: d.videoId }),
          StateIoError: (e) => Effect.flatMap(stateStops(e), (o) => finish(chunk, o))
        })
      )
    }
  })
