/**
 * Polling one video until it is done: adaptive delays between status checks, the job's deadline
 * (past it the job is detached, never resubmitted: the provider still renders and bills it), and
 * the provider's verdict. Any status other than COMPLETE, FAILED and CANCELLED (QUEUED,
 * PROCESSING, one the provider added since) is work in progress: an unknown one is reported
 * once, and never fails a render that is being paid for.
 */
import { Clock, Duration, Effect, Random } from "effect"
import { failedVideoError } from "../mirage/MirageError.ts"
import type { Video } from "../mirage/schemas.ts"
import type { StateIoError } from "../state/journal.ts"
import type { JobScope } from "./jobScope.ts"
import { nextPollDelay } from "./pollDelay.ts"
import { Detach, Resubmit, StepFailed } from "./stepErrors.ts"
import { noteWorkingStatus } from "./workingStatus.ts"

/**
 * Polls until COMPLETE and answers the finished video (its share link is recorded); FAILED →
 * resubmit (rate limit) or fail; past the deadline → detach.
 */
export const pollVideo = (
  scope: JobScope,
  videoId: string,
  submittedAt: number
): Effect.Effect<Video, Detach | Resubmit | StepFailed | StateIoError> =>
  Effect.gen(function* () {
    const { ctx, job, client } = scope
    const interval = Duration.toMillis(ctx.settings.poll.interval)
    const maxInterval = Duration.toMillis(ctx.settings.poll.maxInterval)
    const deadline = submittedAt + Duration.toMillis(ctx.settings.timeout)
    let previousMs = 0
    let progress: number | null = null
    for (;;) {
      const current = yield* Clock.currentTimeMillis
      if (current >= deadline) return yield* Effect.fail(new Detach({ videoId }))
      const delay = nextPollDelay({
        intervalMs: interval,
        maxIntervalMs: maxInterval,
        elapsedMs: current - submittedAt,
        progress,
        previousMs,
        unit: yield* Random.next
      })
      previousMs = delay
      yield* Effect.sleep(Math.min(delay, deadline - current))
      const video = yield* scope
        .retry("poll", "status", () => client.getVideo(videoId))
        .pipe(Effect.catchAll(scope.stepFailed("poll", videoId)))
      progress = video.progress
      yield* scope.emit((at) => ({ type: "job.progress", job: job.id, at, videoId, progress: video.progress, status: video.status }))
      switch (video.status) {
        case "COMPLETE":
          return video
        case "FAILED": {
          const error = failedVideoError(video)
          if (error.code === "rate_limit_exceeded") return yield* Effect.fail(new Resubmit({ error }))
          return yield* scope.stepFailed("poll", videoId)(error)
        }
        case "CANCELLED":
          return yield* Effect.fail(
            new StepFailed({ step: "poll", reason: "the video was cancelled at the provider", code: "cancelled", videoId })
          )
        default:
          yield* noteWorkingStatus(ctx, "status", video.status, videoId)
      }
    }
  })
