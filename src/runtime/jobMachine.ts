/**
 * One job's step machine: (speech →) submit → poll (→ captions → poll) → deliver. Each step is a
 * module of its own (speech, submitStage, pollVideo, remoteStage, deliver) over the job's scope;
 * each remote stage is keyed by its own fingerprint, so a resumed job redoes no finished stage.
 * The machine's result is a plain, serialisable outcome: a failure never escapes, so the other
 * jobs go on; only what stops the whole run (the key refused, the state unwritable) stops it.
 */
import type { FileSystem, Path } from "@effect/platform"
import { Effect, Ref } from "effect"
import { MirageClient } from "../mirage/MirageClient.ts"
import type { PlannedJob } from "../plan/plan.ts"
import type { StateIoError } from "../state/journal.ts"
import { deliverVideo } from "./deliver.ts"
import { makeJobScope, type JobScope } from "./jobScope.ts"
import type { JobOutcome, MachineContext, MachineStart } from "./machineContext.ts"
import { ensureRemote } from "./remoteStage.ts"
import { speak } from "./speech.ts"
import { providerLostIt, videoGone, type Detach, type StepFailed } from "./stepErrors.ts"

export type { JobOutcome, JobProgress, MachineContext, MachineStart } from "./machineContext.ts"

/** Speech → video → captions: the finished video's id at the provider. */
const renderChain = (scope: JobScope, start: MachineStart) =>
  Effect.gen(function* () {
    const { job, client } = scope
    const stages = job.stages
    const voice = stages.speech ? yield* speak(scope, stages.speech) : undefined
    const audio = voice?.path ?? (job.job.audio as { path: string }).path
    const videoId = yield* ensureRemote(
      scope,
      {
        step: "submit",
        kind: "generation",
        fp: stages.video,
        create: client.createVideo({ image: job.job.image.path, audio, model: job.model }),
        matches: (video) => (video.model === null || video.model === job.model) && video.source_video_id === null,
        costUsd: job.costUsd.video
      },
      start
    )
    if (!stages.captions) return { videoId, speechSha256: voice?.sha256 }
    const captions = stages.captions
    const captionedId = yield* ensureRemote(
      scope,
      {
        step: "captions",
        kind: "captions",
        fp: captions.fingerprint,
        create: client.addCaptions({ templateId: captions.template, videoId }),
        matches: (video) => video.source_video_id === videoId && video.caption_template_id === captions.template,
        costUsd: job.costUsd.captions ?? 0
      },
      start
    )
    return { videoId: captionedId, speechSha256: voice?.sha256 }
  })

/** A failure as the job's outcome; a refused key stops the whole run instead (one message, not one per job). */
export const failureOutcome = (scope: JobScope, f: StepFailed): Effect.Effect<JobOutcome> => {
  if (f.cause === "Unauthorized") {
    const status = /\(HTTP (\d+)\)/.exec(f.reason)?.[1]
    const message = `${scope.ctx.keyName} was refused by ${scope.client.baseUrl}${status ? ` (HTTP ${status})` : ""}: check the key. Nothing more was sent.`
    return Effect.as(scope.ctx.runStop.stop({ _tag: "KeyRefused", message }), { _tag: "Stopped" })
  }
  return Effect.succeed({
    _tag: "Failed",
    step: f.step,
    reason: f.reason,
    ...(f.code !== undefined ? { code: f.code } : {}),
    ...(f.videoId !== undefined ? { videoId: f.videoId } : {}),
    ...(videoGone(f) ? { videoGone: true } : {})
  })
}

export const runJob = (
  job: PlannedJob,
  ctx: MachineContext,
  start: MachineStart = { _tag: "Submit" },
  options: { readonly deliver: "download" | "base" } = { deliver: "download" }
): Effect.Effect<JobOutcome, never, MirageClient | FileSystem.FileSystem | Path.Path> =>
  Effect.gen(function* () {
    const scope = yield* makeJobScope(job, ctx)
    const machine = Effect.gen(function* () {
      if (yield* Ref.get(ctx.stopping)) return { _tag: "Skipped" } as JobOutcome
      let from = start
      if (start._tag === "Download") {
        // A finished render recorded earlier; if the provider no longer has it, it is rendered again.
        const delivered = yield* deliverVideo(scope, start.videoId, undefined).pipe(
          Effect.catchIf(
            (f): f is StepFailed => f._tag === "StepFailed" && providerLostIt(f),
            () => Effect.succeed(undefined)
          )
        )
        if (delivered) return delivered
        from = { _tag: "Submit" }
      }
      const finished = yield* renderChain(scope, from)
      if (options.deliver === "base") {
        return {
          _tag: "Rendered",
          videoId: finished.videoId,
          ...(finished.speechSha256 ? { speechSha256: finished.speechSha256 } : {})
        } as JobOutcome
      }
      return yield* deliverVideo(scope, finished.videoId, finished.speechSha256)
    })
    return yield* machine.pipe(
      Effect.catchTags({
        StepFailed: (f: StepFailed) => failureOutcome(scope, f),
        Detach: (d: Detach): Effect.Effect<JobOutcome> => Effect.succeed({ _tag: "Detached", videoId: d.videoId }),
        OverBudget: (): Effect.Effect<JobOutcome> => Effect.succeed({ _tag: "Skipped" }),
        StateIoError: (e: StateIoError): Effect.Effect<JobOutcome> =>
          Effect.as(ctx.runStop.stop({ _tag: "StateUnwritable", message: e.message }), { _tag: "Stopped" })
      })
    )
  })
