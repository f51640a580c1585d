/**
 * How a step of a job's machine ends when it does not simply succeed. Plain tagged values: the
 * machine turns each into the job's outcome (failed, detached, resubmitted), never an exception.
 */
import { Data } from "effect"
import type { MirageError, VideoFailed } from "../mirage/MirageError.ts"
import type { StateIoError } from "../state/journal.ts"
import type { JobStep } from "./events.ts"
import type { CorruptDownload } from "./failureKind.ts"

/** What a step's requests can fail with. A state folder that cannot be written is not retried: it stops the run. */
export type StepError = MirageError | CorruptDownload | StateIoError

/** The step failed for good: the job fails with this reason. */
export class StepFailed extends Data.TaggedClass("StepFailed")<{
  readonly step: JobStep
  readonly reason: string
  readonly code?: string
  readonly videoId?: string
  /** The client error behind it, when there is one. */
  readonly cause?: StepError["_tag"]
}> {}

/** The job's video is still rendering at its deadline: detached, never resubmitted. */
export class Detach extends Data.TaggedClass("Detach")<{ readonly videoId: string }> {}

/** The provider ended the render FAILED `rate_limit_exceeded`: worth another submission. */
export class Resubmit extends Data.TaggedClass("Resubmit")<{ readonly error: VideoFailed }> {}

/** A render an earlier run recorded that the provider no longer knows: it is rendered again. */
export const providerLostIt = (failure: StepFailed): boolean => failure.cause === "NotFound"

/** The provider said the video is of no use: it FAILED, was cancelled, or is gone. */
export const videoGone = (failure: StepFailed): boolean =>
  failure.videoId !== undefined && (failure.cause === "VideoFailed" || failure.cause === "NotFound" || failure.code === "cancelled")
