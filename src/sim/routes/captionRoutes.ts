import { HttpRouter, HttpServerRequest, HttpServerResponse } from "@effect/platform"
import { Clock, Deferred, Effect, Either, Option } from "effect"
import { issue, missingField, notFound, type ValidationIssue, validationFailed } from "../apiErrors.ts"
import type { ApiRoute } from "../apiGate.ts"
import { captionTemplates, captionTemplateView, findCaptionTemplate } from "../captionTemplates.ts"
import { checkFormShape } from "../formChecks.ts"
import { newVideoId, randomToken } from "../ids.ts"
import { planJobFailure } from "../jobFailures.ts"
import { captionVideoMaxBytes, checkVideo } from "../mediaChecks.ts"
import { readMultipartUpload } from "../multipartUpload.ts"
import { collectIssues, pageLimit, queryValue } from "../queryParams.ts"
import type { SimContext } from "../simContext.ts"
import { shareLinkBase } from "./shareLink.ts"
import { initialView, queueTimeMs, type VideoJob, viewAt } from "../videoJobs.ts"
import type { RenderedVideo } from "../videoRenderer.ts"

/**
 * Captions: `POST /v1/videos/captions` makes a new video from a COMPLETE video of the caller's or
 * an uploaded 9:16 MP4/MOV; it progresses like a render over the source's duration and its file is
 * the source's. Templates: a fixed list, paginated like the API's.
 */

/** The duration assumed for an uploaded source whose movie header carries none. */
const fallbackSeconds = 1

interface CaptionSource {
  readonly path: string
  readonly durationSeconds: number
  readonly sourceVideoId: string | null
}

const addCaptions = (context: SimContext): ApiRoute => ({
  method: "POST",
  template: "/v1/videos/captions",
  kind: "captions",
  handle: (caller) =>
    Effect.scoped(
      Effect.gen(function* () {
        const dir = yield* context.store.scratchDirectory
        const upload = yield* Effect.either(readMultipartUpload(dir, (field) => (field === "video" ? captionVideoMaxBytes : 0)))
        if (Either.isLeft(upload)) return validationFailed([issue(["body"], upload.left.reason)])
        const form = checkFormShape(upload.right, { files: ["video"], texts: ["caption_template_id", "video_id"] })
        const issues: Array<ValidationIssue> = [...form.issues]

        const templateId = form.text("caption_template_id")
        if (Option.isNone(templateId)) {
          if (!issues.some((i) => i.loc[1] === "caption_template_id")) issues.push(missingField(["body", "caption_template_id"]))
        } else if (findCaptionTemplate(templateId.value) === undefined) {
          issues.push(issue(["body", "caption_template_id"], "Caption template not found"))
        }

        // An empty `video_id` field is how some form encoders send "none".
        const videoId = Option.filter(form.text("video_id"), (id) => id.trim() !== "")
        const video = form.file("video")
        let source: Option.Option<CaptionSource> = Option.none()
        if (Option.isSome(videoId) && Option.isSome(video)) {
          issues.push(issue(["body"], "Provide exactly one of video or video_id, not both"))
        } else if (Option.isNone(videoId) && Option.isNone(video)) {
          if (!issues.some((i) => i.loc[1] === "video" || i.loc[1] === "video_id")) {
            issues.push(issue(["body"], "Provide exactly one of video or video_id"))
          }
        } else if (Option.isSome(videoId)) {
          const job = yield* context.videos.get(videoId.value, caller.apiKey)
          if (Option.isNone(job)) {
            issues.push(issue(["body", "video_id"], "Video not found"))
          } else {
            const view = yield* viewAt(job.value, yield* Clock.currentTimeMillis)
            if (view.status !== "COMPLETE" || Option.isNone(job.value.content)) {
              issues.push(issue(["body", "video_id"], `The source video must be COMPLETE; it is ${view.status}`))
            } else {
              const file = yield* Deferred.await(job.value.content.value)
              source = Option.some({ path: file.path, durationSeconds: job.value.durationSeconds, sourceVideoId: job.value.id })
            }
          }
        } else if (Option.isSome(video)) {
          const checked = yield* checkVideo(video.value, ["body", "video"], {
            maxBytes: Option.some(captionVideoMaxBytes),
            portrait: true
          })
          issues.push(...checked.issues)
          if (checked.issues.length === 0 && Option.isSome(checked.info)) {
            const extension = Option.getOrElse(checked.kind, () => "mp4")
            const kept = yield* context.store.keep(video.value.path, "caption-upload", extension)
            const seconds = checked.info.value.durationSeconds
            source = Option.some({ path: kept, durationSeconds: seconds > 0 ? seconds : fallbackSeconds, sourceVideoId: null })
          }
        }
        if (issues.length > 0 || Option.isNone(source) || Option.isNone(templateId)) return validationFailed(issues)

        const nowMs = yield* Clock.currentTimeMillis
        const id = yield* newVideoId
        const failure = yield* planJobFailure(context)
        const content = yield* Deferred.make<RenderedVideo>()
        yield* Deferred.succeed(content, { path: source.value.path, readyAtMs: nowMs })
        const job: VideoJob = {
          id,
          owner: caller.apiKey,
          createdAtMs: nowMs,
          queuedMs: queueTimeMs(context.options),
          renderMs: Math.round(context.options.renderFactor * source.value.durationSeconds * 1000),
          durationSeconds: source.value.durationSeconds,
          model: null,
          sourceVideoId: source.value.sourceVideoId,
          captionTemplateId: templateId.value,
          failure,
          content: Option.isSome(failure) ? Option.none() : Option.some(content),
          fileName: `${id}-${yield* randomToken(16)}.mp4`,
          shareBaseUrl: yield* shareLinkBase
        }
        yield* context.videos.add(job)
        return HttpServerResponse.unsafeJson(yield* initialView(job))
      })
    )
})

const listTemplates = (context: SimContext): ApiRoute => ({
  method: "GET",
  template: "/v1/videos/captions/templates",
  kind: "templates",
  handle: () =>
    Effect.gen(function* () {
      const query = yield* HttpServerRequest.ParsedSearchParams
      const limit = pageLimit(query)
      if (Either.isLeft(limit)) return validationFailed(collectIssues([limit]))
      const after = queryValue(query, "after")
      const start = Option.match(after, {
        onNone: () => 0,
        onSome: (id) => captionTemplates.findIndex((t) => t.id === id) + 1
      })
      if (start === 0 && Option.isSome(after)) {
        return validationFailed([issue(["query", "after"], "No caption template with this id")])
      }
      const page = captionTemplates.slice(start, start + limit.right)
      return HttpServerResponse.unsafeJson({
        data: page.map((t) => captionTemplateView(t, context.fileBaseUrl)),
        object: "list",
        has_more: start + page.length < captionTemplates.length
      })
    })
})

const getTemplate = (context: SimContext): ApiRoute => ({
  method: "GET",
  template: "/v1/videos/captions/templates/{template_id}",
  kind: "templates",
  handle: () =>
    Effect.gen(function* () {
      const { template_id } = yield* HttpRouter.params
      const template = findCaptionTemplate(template_id ?? "")
      return template === undefined
        ? notFound("Caption template not found")
        : HttpServerResponse.unsafeJson(captionTemplateView(template, context.fileBaseUrl))
    })
})

export const captionRoutes = (context: SimContext): ReadonlyArray<ApiRoute> => [
  addCaptions(context),
  listTemplates(context),
  getTemplate(context)
]
