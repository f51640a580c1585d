/**
 * Submitting a remote stage (a render, or its captioning): the one request that must never be
 * repeated blindly, since the API has no idempotency key. Its intent is durable before it is sent;
 * an answer is recorded at once; an unknown outcome (the answer lost) is reconciled through the
 * provider's list before anything is sent again, and a resubmission without a match is recorded
 * as a possible duplicate.
 */
import { Clock, Duration, Effect, Option, Ref } from "effect"
import { MirageClient } from "../mirage/MirageClient.ts"
import type { FileApiError } from "../mirage/MirageError.ts"
import type { RequestKind } from "../mirage/quotas.ts"
import type { Video } from "../mirage/schemas.ts"
import type { StateIoError } from "../state/journal.ts"
import type { SubmitWindow } from "../state/journalEntry.ts"
import { OverBudget } from "./budget.ts"
import { certainlyNotCreated } from "./failureKind.ts"
import type { JobScope } from "./jobScope.ts"
import { retrying } from "./retry.ts"
import { settleOnInterrupt } from "./settle.ts"
import type { StepFailed } from "./stepErrors.ts"

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

/**
 * One submit request. If the run is interrupted while it is unanswered, it may still finish for
 * `settleTime`: the video it creates is then recorded as in flight instead of lost.
 */
const submitOnce = (scope: JobScope, stage: RemoteStage, attempt: number, intentAt: number) =>
  Effect.gen(function* () {
    const { ctx, job } = scope
    yield* scope.setProgress({ _tag: "Submitting", attempt })
    yield* scope.emit((at) => ({ type: "job.submitting", job: job.id, at, attempt }))
    const request = ctx.ledger.submit(job.id, intentAt, ctx.uploads.withPermits(1)(stage.create), (e) => !certainlyNotCreated(e))
    return yield* settleOnInterrupt(request, {
      settleTime: ctx.settings.settleTime,
      settled: (exit) =>
        exit._tag === "Success"
          ? Effect.gen(function* () {
              // Journaled like any answer, so the next run polls it instead of reconciling
              // (a journal that cannot be written leaves the intent: the next run reconciles).
              yield* scope.setProgress({ _tag: "Submitted", videoId: exit.value.id })
              yield* Effect.ignore(ctx.recorder.submitted({ job: job.id, fp: stage.fp }, exit.value.id, yield* Clock.currentTimeMillis))
            })
          : scope.setProgress(undefined),
      lost: scope.setProgress({ _tag: "UnknownOutcome" })
    })
  })

/**
 * Looks for the video of a submit whose answer was lost (while no other submit is in flight) and
 * adopts it only when no other lost submit could have made it. The list is read with the step's
 * retries. Answers the adopted video, or undefined when the stage must be submitted again.
 */
export const reconcileStage = (scope: JobScope, stage: RemoteStage, window: SubmitWindow): Effect.Effect<Video | undefined, StateIoError> =>
  Effect.gen(function* () {
    const { ctx, job } = scope
    const target = { job: job.id, fp: stage.fp }
    const looked = yield* scope
      .retry("reconcile", "list", () =>
        ctx.ledger.look(job.id, window, stage.matches).pipe(Effect.provideService(MirageClient, scope.client))
      )
      .pipe(
        Effect.map((adoption) => ({ read: true, ...adoption })),
        // The list cannot be read: nothing is known (resubmit, recorded as a possible duplicate).
        Effect.orElseSucceed(() => ({ read: false, adopt: Option.none<Video>(), candidates: [] as ReadonlyArray<Video> }))
      )
    const at = yield* Clock.currentTimeMillis
    if (Option.isSome(looked.adopt)) {
      const video = looked.adopt.value
      yield* ctx.ledger.settle(job.id, [], undefined)
      yield* ctx.ledger.claim(video.id)
      yield* ctx.recorder.adopted(target, video.id, at)
      return video
    }
    // Not settled (the list unread, or videos it could not tell apart): whatever this submit made
    // belongs to nobody, and no later reconciliation may adopt a video of its window. A list that
    // was read and showed nothing in the window settles it: no video was made.
    const unsettled = !looked.read || looked.candidates.length > 0
    const orphan = unsettled ? window : undefined
    yield* ctx.ledger.settle(job.id, looked.candidates, orphan)
    // Even a list with nothing unclaimed in the window is counted as a possible duplicate: the
    // video of this submit may be among those another reconciliation could not tell apart (and
    // so made nobody's). Only the orphan window depends on whether the list settled it.
    const reason = "a submit's outcome is unknown and no unclaimed video matches it: submitting again, a second video may exist"
    yield* ctx.recorder.possibleDuplicate(target, reason, orphan, at)
    yield* Ref.update(ctx.possibleDuplicates, (n) => n + 1)
    yield* scope.emit((at) => ({ type: "job.duplicateRisk", job: job.id, at, reason }))
    return undefined
  })

/** One submission of `stage`: its request retried (transient failures) as the policy says. */
export const submitStage = (
  scope: JobScope,
  stage: RemoteStage
): Effect.Effect<{ readonly videoId: string; readonly submittedAt: number }, StepFailed | OverBudget | StateIoError> =>
  Effect.gen(function* () {
    const { ctx, job } = scope
    const target = { job: job.id, fp: stage.fp }
    if (yield* Ref.get(ctx.stopping)) return yield* Effect.fail(new OverBudget())
    yield* ctx.budget.reserve(stage.costUsd)
    let used = 0
    let intentAt = 0
    /** A request of this submission is out, or its outcome unknown: the spend stands if the run is interrupted. */
    let mayHaveCreated = false
    /** Set when the last attempt's outcome is unknown: its window, to reconcile before sending again. */
    let unknown: SubmitWindow | undefined
    const video = yield* retrying({
      step: stage.step,
      kind: stage.kind,
      policy: ctx.settings.retry,
      gate: ctx.gate,
      health: ctx.health,
      onRetry: (notice) =>
        Effect.gen(function* () {
          if (notice.unknownOutcome) {
            unknown = { from: intentAt, until: yield* Clock.currentTimeMillis }
            // Interrupted during the backoff, the summary must say a video may exist.
            yield* scope.setProgress({ _tag: "UnknownOutcome" })
          } else if (unknown === undefined) mayHaveCreated = false
          yield* scope.onRetry(notice)
        }),
      attempt: (n) =>
        Effect.gen(function* () {
          used = n
          if (unknown !== undefined) {
            const adopted = yield* reconcileStage(scope, stage, unknown)
            unknown = undefined
            if (adopted) return adopted
          }
          intentAt = yield* Clock.currentTimeMillis
          // Durable before the request goes out: a journal that cannot say so stops the run.
          yield* ctx.recorder.intent(target, intentAt)
          mayHaveCreated = true
          return yield* submitOnce(scope, stage, n, intentAt)
        })
    }).pipe(
      // Interrupted (Ctrl-C, a run-level stop) before anything could have been created, e.g.
      // while waiting for the quota: nothing was spent.
      Effect.onInterrupt(() => (mayHaveCreated ? Effect.void : ctx.budget.refund(stage.costUsd))),
      Effect.tapError((error) =>
        // A refusal proves nothing was created; an unknown outcome stays in the journal for reconciliation.
        certainlyNotCreated(error)
          ? Effect.flatMap(Clock.currentTimeMillis, (at) =>
              Effect.zipRight(
                ctx.budget.refund(stage.costUsd),
                error._tag === "StateIoError" ? Effect.void : ctx.recorder.notSubmitted(target, at)
              )
            )
          : Effect.void
      ),
      Effect.catchAll(scope.stepFailed(stage.step))
    )
    const submittedAt = yield* Clock.currentTimeMillis
    // In flight before it is recorded: if the record cannot be written, the summary still says the video exists.
    yield* scope.setProgress({ _tag: "Submitted", videoId: video.id })
    yield* ctx.recorder.submitted(target, video.id, submittedAt)
    yield* scope.emit((at) => ({ type: "job.submitted", job: job.id, at, videoId: video.id, attempt: used, step: stage.step }))
    return { videoId: video.id, submittedAt }
  })

/** The window of a submit an earlier run announced and never answered: it may have taken a request timeout (plus the settle time) to land. */
export const earlierSubmitWindow = (scope: JobScope, intentAt: number): SubmitWindow => ({
  from: intentAt,
  until: intentAt + Duration.toMillis(scope.ctx.settings.requestTimeout) + Duration.toMillis(scope.ctx.settings.settleTime)
})
