import { Chunk, Deferred, Effect, HashMap, Option, Ref } from "effect"
import type { RenderedVideo } from "./videoRenderer.ts"

/**
 * Video jobs (generations and captionings) and how their state follows from the clock: a job is
 * QUEUED (progress 0) for its queue time, as a busy provider's is, then PROCESSING with progress
 * rising linearly over its render time, then COMPLETE once both have passed and its file exists,
 * or FAILED partway through the render when it was chosen to fail. Nothing is stored per poll;
 * every read computes the state from the job's fixed plan and the current time.
 */
export type VideoStatus = "QUEUED" | "PROCESSING" | "COMPLETE" | "FAILED" | "CANCELLED"

export const videoStatuses: ReadonlyArray<VideoStatus> = ["QUEUED", "PROCESSING", "COMPLETE", "FAILED", "CANCELLED"]

export interface VideoJob {
  readonly id: string
  /** The API key that created it: each key sees only its own videos. */
  readonly owner: string
  readonly createdAtMs: number
  /** Waiting in the provider's queue before the render time starts. */
  readonly queuedMs: number
  readonly renderMs: number
  /** Of the audio (generation) or of the source video (captioning). */
  readonly durationSeconds: number
  readonly model: string | null
  readonly sourceVideoId: string | null
  readonly captionTemplateId: string | null
  readonly failure: Option.Option<{ readonly code: string; readonly message: string; readonly atFraction: number }>
  /** The job's file; None for a job planned to fail (nothing is rendered for it). */
  readonly content: Option.Option<Deferred.Deferred<RenderedVideo>>
  /** The name its file is published under on the file host. */
  readonly fileName: string
  /** The simulator's origin as its creator reached it: a COMPLETE video's share link is `<it>/share/<id>`. */
  readonly shareBaseUrl: string
}

/** `MAVideo` as the API answers it. */
export interface VideoView {
  readonly id: string
  readonly object: "video"
  readonly status: VideoStatus
  readonly created_at: number
  readonly completed_at: number | null
  readonly progress: number | null
  readonly error: { readonly code: string; readonly message: string } | null
  readonly model: string | null
  readonly source_video_id: string | null
  readonly caption_template_id: string | null
  readonly share_link_url: string | null
  readonly video_id: string
}

/** A job's queue time: the configured one, except at render factor 0, which means "at once". */
export const queueTimeMs = (options: { readonly renderFactor: number; readonly queuedMs: number }): number =>
  options.renderFactor === 0 ? 0 : options.queuedMs

const seconds = (ms: number) => Math.floor(ms / 1000)

/** The public share link of a finished video. */
export const shareLinkOf = (job: VideoJob): string => `${job.shareBaseUrl}/share/${encodeURIComponent(job.id)}`

/** The job as the API shows it at `nowMs`. */
export const viewAt = (job: VideoJob, nowMs: number): Effect.Effect<VideoView> =>
  Effect.gen(function* () {
    // Field order as in the API's examples.
    const view = (status: VideoStatus, progress: number, completedAtMs: number | null, error: VideoView["error"]): VideoView => ({
      id: job.id,
      object: "video",
      status,
      created_at: seconds(job.createdAtMs),
      completed_at: completedAtMs === null ? null : seconds(completedAtMs),
      progress,
      error,
      model: job.model,
      source_video_id: job.sourceVideoId,
      caption_template_id: job.captionTemplateId,
      // Like the provider's, a share link exists once the video does.
      share_link_url: status === "COMPLETE" ? shareLinkOf(job) : null,
      video_id: job.id
    })
    if (nowMs - job.createdAtMs < job.queuedMs) return view("QUEUED", 0, null, null)
    const startedAtMs = job.createdAtMs + job.queuedMs
    const elapsed = nowMs - startedAtMs
    if (Option.isSome(job.failure)) {
      const failure = job.failure.value
      if (elapsed >= job.renderMs * failure.atFraction) {
        return view("FAILED", Math.floor(failure.atFraction * 100), null, { code: failure.code, message: failure.message })
      }
    }
    const rendered = Option.isSome(job.content) ? yield* Deferred.poll(job.content.value) : Option.none()
    if (elapsed >= job.renderMs && Option.isSome(rendered)) {
      const file = yield* rendered.value
      return view("COMPLETE", 100, Math.max(startedAtMs + job.renderMs, file.readyAtMs), null)
    }
    // Never 100 while still PROCESSING (the file may still be rendering after the timeline).
    const progress = job.renderMs <= 0 ? 99 : Math.min(99, Math.floor((100 * Math.max(0, elapsed)) / job.renderMs))
    return view("PROCESSING", progress, null, null)
  })

/** The view a just-created job is answered with: QUEUED when it has a queue time, else PROCESSING, at 0%. */
export const initialView = (job: VideoJob): Effect.Effect<VideoView> =>
  Effect.map(viewAt(job, job.createdAtMs), (view) => ({
    ...view,
    status: job.queuedMs > 0 ? "QUEUED" : "PROCESSING",
    progress: 0,
    completed_at: null,
    error: null,
    share_link_url: null
  }))

export interface ListQuery {
  readonly owner: string
  readonly after: Option.Option<string>
  readonly limit: number
  readonly order: "asc" | "desc"
}

export interface VideoJobStore {
  readonly add: (job: VideoJob) => Effect.Effect<void>
  /** The job, if it exists and belongs to `owner`. */
  readonly get: (id: string, owner: string) => Effect.Effect<Option.Option<VideoJob>>
  /** One page of `owner`'s jobs; None when the `after` cursor is not one of theirs. */
  readonly list: (query: ListQuery) => Effect.Effect<Option.Option<ReadonlyArray<VideoJob>>>
  readonly all: Effect.Effect<ReadonlyArray<VideoJob>>
}

interface State {
  readonly byId: HashMap.HashMap<string, VideoJob>
  /** Ids in creation order. */
  readonly order: Chunk.Chunk<string>
}

export const makeVideoJobStore: Effect.Effect<VideoJobStore> = Effect.gen(function* () {
  const state = yield* Ref.make<State>({ byId: HashMap.empty(), order: Chunk.empty() })
  const jobsInOrder = (current: State) => Chunk.filterMap(current.order, (id) => HashMap.get(current.byId, id))
  return {
    add: (job) =>
      Ref.update(state, (current) => ({
        byId: HashMap.set(current.byId, job.id, job),
        order: Chunk.append(current.order, job.id)
      })),
    get: (id, owner) => Effect.map(Ref.get(state), (current) => Option.filter(HashMap.get(current.byId, id), (job) => job.owner === owner)),
    list: ({ after, limit, order, owner }) =>
      Effect.map(Ref.get(state), (current) => {
        const mine = Chunk.toReadonlyArray(jobsInOrder(current)).filter((job) => job.owner === owner)
        const ordered = order === "desc" ? [...mine].reverse() : mine
        if (Option.isNone(after)) return Option.some(ordered.slice(0, limit))
        const index = ordered.findIndex((job) => job.id === after.value)
        return index < 0 ? Option.none() : Option.some(ordered.slice(index + 1, index + 1 + limit))
      }),
    all: Effect.map(Ref.get(state), (current) => Chunk.toReadonlyArray(jobsInOrder(current)))
  }
})
