/**
 * One remote stage (a render, or its captioning) run to a finished video: submitted, reconciled
 * or polled as its start says, resubmitted when the provider ends it FAILED `rate_limit_exceeded`
 * (at most `retry.attempts` renders), detached at its deadline.
 */
import { Clock, Effect, Random } from "effect"
import type { StateIoError } from "../state/journal.ts"
import { recordedStart, type RecordedStart } from "../state/renderStart.ts"
import type { OverBudget } from "./budget.ts"
import type { JobScope } from "./jobScope.ts"
import type { MachineStart } from "./machineContext.ts"
import { pollVideo } from "./pollVideo.ts"
import { backoffMillis } from "./retry.ts"
import { providerLostIt, StepFailed, type Detach, type Resubmit } from "./stepErrors.ts"
import { earlierSubmitWindow, reconcileStage, submitStage, type RemoteStage } from "./submitStage.ts"

export type { RemoteStage } from "./submitStage.ts"

/**
 * Where a stage starts: the job's own start for its last stage (the resume decision, made from
 * the same journal, or "render again" when the provider lost the video it recorded), else what
 * the journal says of the stage.
 */
const stageStart = (scope: JobScope, start: MachineStart, fp: string): RecordedStart | MachineStart =>
  fp === scope.job.fingerprint && start._tag !== "Download" ? start : recordedStart(scope.ctx.stageRecord(fp))

/**
 * A FAILED rate_limit_exceeded is worth another submission: at most `retry.attempts` renders per
 * stage, counted apart from the submit request's own retries (a flaky network must not use up
 * the renders, nor FAILED renders the request's retries), each after the same backoff as a
 * retry: the provider said it was overloaded.
 */
const afterFailedRender = (scope: JobScope, stage: RemoteStage, videoId: string, failure: Resubmit, failedRenders: number) =>
  Effect.gen(function* () {
    const policy = scope.ctx.settings.retry
    if (failedRenders >= policy.attempts) {
      const { error } = failure
      return yield* Effect.fail(
        new StepFailed({
          step: "poll",
          reason: `${error.message} (${failedRenders} renders failed)`,
          code: error.code,
          videoId,
          cause: "VideoFailed"
        })
      )
    }
    const delayMs = backoffMillis(policy, failedRenders, yield* Random.next)
    yield* scope.onRetry({ step: stage.step, attempt: failedRenders, delayMs, reason: failure.error.message, unknownOutcome: false })
    yield* Effect.sleep(delayMs)
  })

/** Polls a known video; answers "resubmit" when it must be rendered again, else records it rendered. */
const pollStage = (
  scope: JobScope,
  stage: RemoteStage,
  videoId: string,
  submittedAt: number,
  resumed: boolean,
  failedRenders: () => number
) =>
  Effect.gen(function* () {
    const { ctx, job } = scope
    yield* ctx.ledger.claim(videoId)
    yield* scope.setProgress({ _tag: "Submitted", videoId })
    // A render picked up from an earlier run gets a full timeout from now.
    const outcome = yield* pollVideo(scope, videoId, Math.max(submittedAt, ctx.startedAt)).pipe(
      Effect.tapErrorTag("Detach", (d: Detach) =>
        Effect.flatMap(Clock.currentTimeMillis, (at) => ctx.recorder.detached({ job: job.id, fp: stage.fp }, d.videoId, at))
      ),
      Effect.catchIf(
        (f): f is StepFailed => f._tag === "StepFailed" && resumed && providerLostIt(f),
        () => Effect.succeed("resubmit" as const)
      ),
      Effect.catchTag("Resubmit", (r: Resubmit) =>
        Effect.as(afterFailedRender(scope, stage, videoId, r, failedRenders()), "resubmit" as const)
      )
    )
    if (outcome === "resubmit") return outcome
    const finished = outcome.share_link_url !== null ? { videoId, shareLinkUrl: outcome.share_link_url } : { videoId }
    yield* ctx.recorder.rendered({ job: job.id, fp: stage.fp }, finished, yield* Clock.currentTimeMillis)
    yield* scope.emit((at) => ({ type: "job.rendered", job: job.id, at, videoId }))
    return "rendered" as const
  })

/** Runs one remote stage to a finished video: its id at the provider. */
export const ensureRemote = (
  scope: JobScope,
  stage: RemoteStage,
  start: MachineStart
): Effect.Effect<string, StepFailed | Detach | OverBudget | StateIoError> =>
  Effect.gen(function* () {
    let phase: RecordedStart | MachineStart = stageStart(scope, start, stage.fp)
    let resumed = phase._tag === "Poll"
    /** Renders of this stage that ended FAILED rate_limit_exceeded in this run (each resubmitted). */
    let failedRenders = 0
    for (;;) {
      switch (phase._tag) {
        case "Done":
          return phase.videoId
        case "Download":
        case "Submit": {
          const submitted = yield* submitStage(scope, stage)
          phase = { _tag: "Poll", videoId: submitted.videoId, submittedAt: submitted.submittedAt }
          resumed = false
          break
        }
        case "Reconcile": {
          const adopted = yield* reconcileStage(scope, stage, earlierSubmitWindow(scope, phase.intentAt))
          phase = adopted ? { _tag: "Poll", videoId: adopted.id, submittedAt: adopted.created_at * 1000 } : { _tag: "Submit" }
          if (adopted) yield* scope.emit((at) => ({ type: "job.submitted", job: scope.job.id, at, videoId: adopted.id, attempt: 0 }))
          break
        }
        case "Poll": {
          const { videoId } = phase
          const outcome = yield* pollStage(scope, stage, videoId, phase.submittedAt, resumed, () => ++failedRenders)
          if (outcome === "rendered") return videoId
          phase = { _tag: "Submit" }
        }
      }
    }
  })
