/**
 * Delivering a finished video to its output: downloaded (within the download limit, verified,
 * renamed into place), or copied or moved from another output that holds the same render; then
 * its facts recorded (journal, then lock file) and the job announced complete.
 */
import { FileSystem, Path } from "@effect/platform"
import { Clock, Effect, Option } from "effect"
import { digestFile } from "../media/digest.ts"
import type { MirageClient } from "../mirage/MirageClient.ts"
import { lockEntryFor } from "../plan/lockEntry.ts"
import type { PlannedJob } from "../plan/plan.ts"
import type { StateIoError } from "../state/journal.ts"
import { downloadToOutput } from "./download.ts"
import type { RunEvent } from "./events.ts"
import type { JobScope } from "./jobScope.ts"
import type { JobOutcome, MachineContext } from "./machineContext.ts"
import { StepFailed } from "./stepErrors.ts"

export interface Placed {
  /** The job whose render this output copies, when it is a copy. */
  readonly sharedWith?: string
  /** The generated voice track's digest, for a spoken job. */
  readonly speechSha256?: string | undefined
}

const emitNow = (ctx: MachineContext, event: (at: string) => RunEvent) =>
  Effect.flatMap(Clock.currentTimeMillis, (ms) => ctx.emit(event(new Date(ms).toISOString())))

/** The output is in place: its digest and size recorded (journal, then lock), the job announced complete. */
export const recordOutput = (
  ctx: MachineContext,
  target: PlannedJob,
  videoId: string,
  placed: Placed = {}
): Effect.Effect<JobOutcome, StepFailed | StateIoError, FileSystem.FileSystem> =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const unreadable = (e: { readonly message: string }) =>
      new StepFailed({ step: "download", reason: `reading ${target.output} once in place: ${e.message}`, videoId })
    const info = yield* fs.stat(target.output).pipe(Effect.mapError(unreadable))
    const sha256 = yield* digestFile(target.output).pipe(Effect.mapError(unreadable))
    const bytes = Number(info.size)
    const mtimeMs = Option.match(info.mtime, { onNone: () => 0, onSome: (d) => d.getTime() })
    const facts = { sha256, size: bytes, mtimeMs, ...(placed.speechSha256 ? { speechSha256: placed.speechSha256 } : {}) }
    const at = yield* Clock.currentTimeMillis
    yield* ctx.recorder.completed(
      { job: target.id, fp: target.fingerprint, videoId, entry: lockEntryFor(target, videoId, facts) },
      facts,
      at
    )
    yield* emitNow(ctx, (at) => ({
      type: "job.completed",
      job: target.id,
      at,
      videoId,
      output: target.output,
      bytes,
      ...(placed.sharedWith !== undefined ? { sharedWith: placed.sharedWith } : {})
    }))
    return { _tag: "Completed", videoId, bytes }
  })

/** Downloads the job's finished video to its output, within the run's download limit, and records it. */
export const deliverVideo = (
  scope: JobScope,
  videoId: string,
  speechSha256: string | undefined
): Effect.Effect<JobOutcome, StepFailed | StateIoError, MirageClient | FileSystem.FileSystem | Path.Path> =>
  Effect.gen(function* () {
    const { ctx, job } = scope
    yield* ctx.downloads
      .withPermits(1)(
        Effect.gen(function* () {
          yield* scope.emit((at) => ({ type: "job.downloading", job: job.id, at, videoId, resumeFrom: 0 }))
          return yield* downloadToOutput({
            videoId,
            output: job.output,
            retry: (attempt) => scope.retry("download", "content", attempt)
          })
        })
      )
      .pipe(Effect.catchAll(scope.stepFailed("download", videoId)))
    const outcome = yield* recordOutput(ctx, job, videoId, { speechSha256 })
    yield* scope.setProgress(undefined)
    return outcome
  })

/**
 * A render's bytes already on disk at `source` put (atomically) at `target`'s output: copied
 * from another output with the same fingerprint, or moved from an output renamed since.
 */
export const placeOutput = (
  ctx: MachineContext,
  source: string,
  target: PlannedJob,
  videoId: string,
  options: Placed & { readonly move: boolean }
): Effect.Effect<JobOutcome, StateIoError, FileSystem.FileSystem | Path.Path> =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    yield* fs.makeDirectory(path.dirname(target.output), { recursive: true })
    const temp = `${target.output}.copy.part`
    if (options.move) yield* fs.rename(source, temp)
    else yield* fs.copyFile(source, temp)
    yield* fs.rename(temp, target.output)
    return yield* recordOutput(ctx, target, videoId, options)
  }).pipe(
    Effect.catchAll((e) =>
      e._tag === "StateIoError"
        ? Effect.fail(e)
        : Effect.succeed<JobOutcome>({
            _tag: "Failed",
            step: "download",
            reason: `placing the render from ${source}: ${e._tag === "StepFailed" ? e.reason : e.message}`,
            videoId
          })
    )
  )
