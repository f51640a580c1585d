import { HttpRouter, HttpServerResponse } from "@effect/platform"
import { Clock, Effect, Either, Option } from "effect"
import { issue, missingField, notFound, type ValidationIssue, validationFailed } from "../apiErrors.ts"
import type { ApiRoute } from "../apiGate.ts"
import { checkFormShape } from "../formChecks.ts"
import { newOverlayId } from "../ids.ts"
import { checkVideo } from "../mediaChecks.ts"
import { readMultipartUpload } from "../multipartUpload.ts"
import { checkOverlayItems } from "../overlayItems.ts"
import {
  type OverlayJob,
  overlayProcessingMsPerFactor,
  overlayQueuedMsPerFactor,
  overlayQueuedView,
  overlayViewAt
} from "../overlayJobs.ts"
import { fileUrl, type SimContext } from "../simContext.ts"

/**
 * Meta text overlays: one uploaded MP4/MOV and up to four texts; each result's `video_url` points
 * to the file host (the simulator serves the input video itself: it draws no text).
 */

const createOverlay = (context: SimContext): ApiRoute => ({
  method: "POST",
  template: "/v1/meta/text_overlays",
  kind: "overlays",
  handle: (caller) =>
    Effect.scoped(
      Effect.gen(function* () {
        const dir = yield* context.store.scratchDirectory
        // No size limit is documented for overlay uploads: the whole video is kept.
        const upload = yield* Effect.either(readMultipartUpload(dir, (field) => (field === "video" ? Number.POSITIVE_INFINITY : 0)))
        if (Either.isLeft(upload)) return validationFailed([issue(["body"], upload.left.reason)])
        const form = checkFormShape(upload.right, {
          files: ["video"],
          texts: ["items"],
          lists: ["texts", "fonts", "sizes", "colors"]
        })
        const issues: Array<ValidationIssue> = [...form.issues]
        const video = form.file("video")
        const checkedVideo = Option.isSome(video)
          ? Option.some(yield* checkVideo(video.value, ["body", "video"], { maxBytes: Option.none(), portrait: false }))
          : Option.none()
        if (Option.isNone(video) && !issues.some((i) => i.loc[1] === "video")) issues.push(missingField(["body", "video"]))
        if (Option.isSome(checkedVideo)) issues.push(...checkedVideo.value.issues)
        const items = checkOverlayItems({
          texts: form.list("texts"),
          items: form.text("items"),
          fonts: form.list("fonts"),
          sizes: form.list("sizes"),
          colors: form.list("colors")
        })
        issues.push(...items.issues)
        if (issues.length > 0 || Option.isNone(video) || Option.isNone(checkedVideo)) return validationFailed(issues)

        const id = yield* newOverlayId
        const extension = Option.getOrElse(checkedVideo.value.kind, () => "mp4")
        const kept = yield* context.store.keep(video.value.path, `overlay-${id}`, extension)
        const names = items.items.map((_, index) => `overlay-${id}-${index}.${extension}`)
        yield* Effect.forEach(names, (name) => context.store.publish(name, kept), { discard: true })
        const job: OverlayJob = {
          id,
          owner: caller.apiKey,
          createdAtMs: yield* Clock.currentTimeMillis,
          queuedMs: Math.round(overlayQueuedMsPerFactor * context.options.renderFactor),
          processingMs: Math.round(overlayProcessingMsPerFactor * context.options.renderFactor),
          items: items.items,
          videoUrls: names.map((name) => fileUrl(context, name))
        }
        yield* context.overlays.add(job)
        // Answered as just queued, as the API does; polling shows the progress.
        return HttpServerResponse.unsafeJson(overlayQueuedView(job))
      })
    )
})

const getOverlay = (context: SimContext): ApiRoute => ({
  method: "GET",
  template: "/v1/meta/text_overlays/{text_overlay_id}",
  kind: "status",
  handle: (caller) =>
    Effect.gen(function* () {
      const { text_overlay_id } = yield* HttpRouter.params
      const job = yield* context.overlays.get(text_overlay_id ?? "", caller.apiKey)
      if (Option.isNone(job)) return notFound("Text overlay not found")
      return HttpServerResponse.unsafeJson(overlayViewAt(job.value, yield* Clock.currentTimeMillis))
    })
})

export const overlayRoutes = (context: SimContext): ReadonlyArray<ApiRoute> => [createOverlay(context), getOverlay(context)]
