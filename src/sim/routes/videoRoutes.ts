import { HttpRouter, HttpServerRequest, HttpServerResponse } from "@effect/platform"
import { NodeHttpServerRequest } from "@effect/platform-node"
import { Clock, Deferred, Effect, Either, Option } from "effect"
import { limits } from "../../mirage/limits.ts"
import { conflict, issue, missingField, notFound, type ValidationIssue, validationFailed } from "../apiErrors.ts"
import type { ApiRoute } from "../apiGate.ts"
import { decideReset } from "../faultDice.ts"
import { checkFormShape } from "../formChecks.ts"
import { newVideoId, randomToken } from "../ids.ts"
import { planJobFailure } from "../jobFailures.ts"
import { checkAudio, checkImage } from "../mediaChecks.ts"
import { readMultipartUpload } from "../multipartUpload.ts"
import { collectIssues, listOrder, pageLimit, queryValue } from "../queryParams.ts"
import { fileUrl, type SimContext } from "../simContext.ts"
import { shareLinkBase } from "./shareLink.ts"
import { initialView, queueTimeMs, type VideoJob, viewAt } from "../videoJobs.ts"
import type { RenderedVideo } from "../videoRenderer.ts"

/**
 * Generation: `POST /v1/videos`, `GET /v1/videos`, `GET /v1/videos/{video_id}[/content]`.
 */

export const videoModel = "mirage-video-1-latest"

const uploadCaps: Record<string, number> = {
  image_reference: limits.maxImageBytes,
  audio_reference: limits.maxAudioBytes
}

const hasIssueAt = (issues: ReadonlyArray<ValidationIssue>, field: string) => issues.some((i) => i.loc.length === 2 && i.loc[1] === field)

/** Drops the connection without an answer: the client cannot tell whether the job was created. */
const dropConnection = Effect.gen(function* () {
  const request = yield* HttpServerRequest.HttpServerRequest
  NodeHttpServerRequest.toIncomingMessage(request).socket.destroy()
  // The server interrupts this handler when the socket closes.
  return yield* Effect.never
})

/** The file a new job will serve: the configured content file, or the render of its inputs. */
const contentOf = (
  context: SimContext,
  input: { key: string; imagePath: string; audioPath: string; audioSeconds: number },
  nowMs: number
): Effect.Effect<Deferred.Deferred<RenderedVideo>> => {
  const contentFile = context.options.contentFile
  if (contentFile === undefined) return context.renderer.render(input)
  return Effect.tap(Deferred.make<RenderedVideo>(), (d) => Deferred.succeed(d, { path: contentFile, readyAtMs: nowMs }))
}

const createVideo = (context: SimContext): ApiRoute => ({
  method: "POST",
  template: "/v1/videos",
  kind: "generation",
  handle: (caller) =>
    Effect.scoped(
      Effect.gen(function* () {
        const dir = yield* context.store.scratchDirectory
        const upload = yield* Effect.either(readMultipartUpload(dir, (field) => uploadCaps[field] ?? 0))
        if (Either.isLeft(upload)) return validationFailed([issue(["body"], upload.left.reason)])
        const form = checkFormShape(upload.right, { files: ["image_reference", "audio_reference"], texts: ["model"] })
        const issues: Array<ValidationIssue> = [...form.issues]
        const image = form.file("image_reference")
        const audio = form.file("audio_reference")
        if (Option.isNone(image) && !hasIssueAt(issues, "image_reference")) issues.push(missingField(["body", "image_reference"]))
        if (Option.isNone(audio) && !hasIssueAt(issues, "audio_reference")) issues.push(missingField(["body", "audio_reference"]))
        if (Option.isSome(image)) issues.push(...(yield* checkImage(image.value, ["body", "image_reference"])))
        const audioCheck = Option.isSome(audio)
          ? yield* checkAudio(audio.value, ["body", "audio_reference"])
          : { issues: [], seconds: Option.none<number>() }
        issues.push(...audioCheck.issues)
        const model = Option.getOrElse(form.text("model"), () => videoModel)
        if (model !== videoModel) issues.push(issue(["body", "model"], `Input should be '${videoModel}'`, "enum"))
        if (issues.length > 0 || Option.isNone(image) || Option.isNone(audio) || Option.isNone(audioCheck.seconds)) {
          return validationFailed(issues)
        }

        const nowMs = yield* Clock.currentTimeMillis
        const id = yield* newVideoId
        const audioSeconds = audioCheck.seconds.value
        const key = `${image.value.sha256}:${audio.value.sha256}`
        const failure = yield* planJobFailure(context)
        const content = Option.isSome(failure)
          ? Option.none()
          : Option.some(yield* contentOf(context, { key, imagePath: image.value.path, audioPath: audio.value.path, audioSeconds }, nowMs))
        const job: VideoJob = {
          id,
          owner: caller.apiKey,
          createdAtMs: nowMs,
          queuedMs: queueTimeMs(context.options),
          renderMs: Math.round(context.options.renderFactor * audioSeconds * 1000),
          durationSeconds: audioSeconds,
          model,
          sourceVideoId: null,
          captionTemplateId: null,
          failure,
          content,
          fileName: `${id}-${yield* randomToken(16)}.mp4`,
          shareBaseUrl: yield* shareLinkBase
        }
        yield* context.videos.add(job)
        yield* context.counters.countSubmission(key)
        // With no render time the job must read COMPLETE from the first poll: wait for its file.
        if (context.options.renderFactor === 0 && Option.isSome(content)) yield* Deferred.await(content.value)
        if (yield* decideReset(context.dice, context.options.resetRate)) return yield* dropConnection
        return HttpServerResponse.unsafeJson(yield* initialView(job))
      })
    )
})

const listVideos = (context: SimContext): ApiRoute => ({
  method: "GET",
  template: "/v1/videos",
  kind: "list",
  handle: (caller) =>
    Effect.gen(function* () {
      const query = yield* HttpServerRequest.ParsedSearchParams
      const limit = pageLimit(query)
      const order = listOrder(query)
      const problems = collectIssues([limit, order])
      if (Either.isLeft(limit) || Either.isLeft(order)) return validationFailed(problems)
      const after = queryValue(query, "after")
      const page = yield* context.videos.list({ owner: caller.apiKey, after, limit: limit.right, order: order.right })
      if (Option.isNone(page)) return validationFailed([issue(["query", "after"], "No video with this id")])
      const nowMs = yield* Clock.currentTimeMillis
      return HttpServerResponse.unsafeJson(yield* Effect.forEach(page.value, (job) => viewAt(job, nowMs)))
    })
})

/** The caller's video named by the path, or the 404 answer. */
export const videoOfPath = (context: SimContext, owner: string) =>
  Effect.gen(function* () {
    const { video_id } = yield* HttpRouter.params
    const job = yield* context.videos.get(video_id ?? "", owner)
    return Option.isSome(job) ? Either.right(job.value) : Either.left(notFound("Video not found"))
  })

const getVideo = (context: SimContext): ApiRoute => ({
  method: "GET",
  template: "/v1/videos/{video_id}",
  kind: "status",
  handle: (caller) =>
    Effect.gen(function* () {
      const job = yield* videoOfPath(context, caller.apiKey)
      if (Either.isLeft(job)) return job.left
      return HttpServerResponse.unsafeJson(yield* viewAt(job.right, yield* Clock.currentTimeMillis))
    })
})

const getVideoContent = (context: SimContext): ApiRoute => ({
  method: "GET",
  template: "/v1/videos/{video_id}/content",
  kind: "content",
  handle: (caller) =>
    Effect.gen(function* () {
      const job = yield* videoOfPath(context, caller.apiKey)
      if (Either.isLeft(job)) return job.left
      const view = yield* viewAt(job.right, yield* Clock.currentTimeMillis)
      if (view.status !== "COMPLETE" || Option.isNone(job.right.content)) {
        return conflict(`Video ${view.id} is ${view.status}; its content is available once it is COMPLETE`)
      }
      const file = yield* Deferred.await(job.right.content.value)
      yield* context.store.publish(job.right.fileName, file.path)
      return HttpServerResponse.redirect(fileUrl(context, job.right.fileName), { status: 302 })
    })
})

export const videoRoutes = (context: SimContext): ReadonlyArray<ApiRoute> => [
  createVideo(context),
  listVideos(context),
  getVideo(context),
  getVideoContent(context)
]
