/**
 * A scripted `MirageClient` for the step-machine tests: no HTTP, answers decided by the test.
 * Every call is recorded with the TestClock time it was made at, so a test can assert what was
 * sent and when. Videos and overlay jobs live in maps; a download writes a small valid MP4 (an
 * `ftyp` box) to the path it is given.
 */
import { Clock, Effect, Layer, Stream } from "effect"
import { writeFileSync } from "node:fs"
import {
  MirageClient,
  type CreateTextOverlayInput,
  type CreateVideoInput,
  type MirageClientService
} from "../../../src/mirage/MirageClient.ts"
import { type ApiError, type DownloadError, type FileApiError, NotFound } from "../../../src/mirage/MirageError.ts"
import type { TextOverlay, Video } from "../../../src/mirage/schemas.ts"

/** The operations a test can count (every method of the service). */
export type Operation = Exclude<keyof MirageClientService, "baseUrl">

export interface Call {
  readonly op: Operation
  /** TestClock time of the call (epoch ms). */
  readonly at: number
  /** The video or overlay id it is about, when it has one. */
  readonly id?: string
}

/** What a status check answers: a status, a video with some fields changed, or a failure. */
export type VideoAnswer = string | (Partial<Video> & { readonly status: string }) | ApiError

export type OverlayAnswer = string | (Partial<TextOverlay> & { readonly status: string }) | ApiError

export interface VideoPoll {
  readonly id: string
  /** This video's status checks before this one (0 for the first). */
  readonly n: number
  /** Which createVideo made it (0 for the first); -1 for a video seeded by the test. */
  readonly render: number
  /** TestClock time (epoch ms). */
  readonly now: number
}

export interface StubScript {
  /**
   * The n-th createVideo (from 0). `create` makes the video (kept in the list, as the provider
   * would); the script may fail before it (nothing made), after it (the answer lost), or answer it.
   * Default: the video, answered.
   */
  readonly createVideo?: (n: number, create: Effect.Effect<Video>, input: CreateVideoInput) => Effect.Effect<Video, FileApiError>
  /** What a status check of a known video answers. Default: COMPLETE. */
  readonly getVideo?: (poll: VideoPoll) => VideoAnswer
  /** The n-th listing (from 0) fails with this, when it returns one. */
  readonly listVideos?: (n: number) => ApiError | undefined
  /** The n-th download (from 0) of `id` fails with this, when it returns one. Default: the bytes. */
  readonly downloadContent?: (id: string, n: number) => DownloadError | undefined
  /** The n-th createTextOverlay (from 0); like `createVideo`. */
  readonly createTextOverlay?: (
    n: number,
    create: Effect.Effect<TextOverlay>,
    input: CreateTextOverlayInput
  ) => Effect.Effect<TextOverlay, FileApiError>
  /** What a status check of a known overlay job answers. Default: COMPLETE, every item with its URL. */
  readonly getTextOverlay?: (poll: { readonly id: string; readonly n: number; readonly now: number }) => OverlayAnswer
  /** The n-th downloadUrl (from 0) of `url` fails with this, when it returns one. */
  readonly downloadUrl?: (url: string, n: number) => DownloadError | undefined
}

export interface StubClient {
  readonly service: MirageClientService
  readonly layer: Layer.Layer<MirageClient>
  readonly calls: ReadonlyArray<Call>
  readonly count: (op: Operation) => number
  /** TestClock times of every call of `op`, in order. */
  readonly times: (op: Operation) => ReadonlyArray<number>
  readonly videos: ReadonlyMap<string, Video>
  readonly overlays: ReadonlyMap<string, TextOverlay>
  /** A video the provider already has (an earlier run's render). */
  readonly seedVideo: (video: Partial<Video> & { readonly id: string }) => Video
  /** An overlay job the provider already has (an earlier run's batch). */
  readonly seedOverlay: (overlay: Partial<TextOverlay> & { readonly id: string; readonly texts: ReadonlyArray<string> }) => TextOverlay
}

/** A whole (tiny) MP4 as far as the download check goes: one 24-byte `ftyp` box. */
export const mp4Bytes = Buffer.concat([Buffer.from([0, 0, 0, 0x18]), Buffer.from("ftypisom\0\0\0\0isommp42", "latin1")])

export const stubBaseUrl = "https://mirage.stub"

const isFailure = (answer: unknown): answer is ApiError => typeof answer === "object" && answer !== null && "_tag" in answer

const videoOf = (fields: Partial<Video> & { readonly id: string }): Video => ({
  object: "video",
  status: "PROCESSING",
  created_at: 0,
  completed_at: null,
  progress: null,
  error: null,
  model: null,
  source_video_id: null,
  caption_template_id: null,
  share_link_url: null,
  ...fields
})

const resultsFor = (id: string, texts: ReadonlyArray<string>): TextOverlay["results"] =>
  texts.map((text, index) => ({ index, text, status: "COMPLETE", video_url: `${stubBaseUrl}/files/${id}/${index}.mp4`, error: null }))

export const makeStubClient = (script: StubScript = {}): StubClient => {
  const calls: Array<Call> = []
  const videos = new Map<string, Video>()
  const renderOf = new Map<string, number>()
  const overlays = new Map<string, TextOverlay>()
  const polls = new Map<string, number>()
  const downloads = new Map<string, number>()
  const counters = new Map<string, number>()
  const next = (key: string) => {
    const n = counters.get(key) ?? 0
    counters.set(key, n + 1)
    return n
  }
  const nextOf = (map: Map<string, number>, key: string) => {
    const n = map.get(key) ?? 0
    map.set(key, n + 1)
    return n
  }
  const record = (op: Operation, id?: string) =>
    Effect.flatMap(Clock.currentTimeMillis, (at) => Effect.sync(() => void calls.push({ op, at, ...(id !== undefined ? { id } : {}) })))
  const notFound = (operation: string, path: string) => Effect.fail(new NotFound({ operation, path }))

  const writeMp4 = (path: string) =>
    Effect.sync(() => {
      writeFileSync(path, mp4Bytes)
      return { bytesWritten: mp4Bytes.length, totalBytes: mp4Bytes.length, resumed: false, fileSize: mp4Bytes.length }
    })

  const seedVideo = (fields: Partial<Video> & { readonly id: string }) => {
    const video = videoOf(fields)
    videos.set(video.id, video)
    renderOf.set(video.id, -1)
    return video
  }
  const seedOverlay = ({ texts, ...fields }: Partial<TextOverlay> & { readonly id: string; readonly texts: ReadonlyArray<string> }) => {
    const overlay: TextOverlay = {
      object: "text_overlay",
      status: "PROCESSING",
      created_at: 0,
      completed_at: null,
      error: null,
      results: resultsFor(fields.id, texts),
      ...fields
    }
    overlays.set(overlay.id, overlay)
    return overlay
  }

  const unscripted = (op: Operation) => () => Effect.dieMessage(`the stub MirageClient has no script for ${op}`)

  const service: MirageClientService = {
    baseUrl: stubBaseUrl,
    createVideo: (input) =>
      Effect.gen(function* () {
        yield* record("createVideo")
        const n = next("createVideo")
        const create = Effect.map(Clock.currentTimeMillis, (now) => {
          const video = videoOf({ id: `vid_${n}`, status: "QUEUED", created_at: Math.floor(now / 1000), model: input.model ?? null })
          videos.set(video.id, video)
          renderOf.set(video.id, n)
          return video
        })
        return yield* script.createVideo ? script.createVideo(n, create, input) : create
      }),
    getVideo: (id) =>
      Effect.gen(function* () {
        yield* record("getVideo", id)
        const known = videos.get(id)
        if (!known) return yield* notFound("getVideo", `/v1/videos/${id}`)
        const n = nextOf(polls, id)
        const now = yield* Clock.currentTimeMillis
        const answer = script.getVideo ? script.getVideo({ id, n, render: renderOf.get(id) ?? -1, now }) : "COMPLETE"
        if (isFailure(answer)) return yield* Effect.fail(answer)
        const video: Video = { ...known, ...(typeof answer === "string" ? { status: answer } : answer) }
        videos.set(id, video)
        return video
      }),
    listVideos: (params) =>
      Stream.unwrap(
        Effect.gen(function* () {
          yield* record("listVideos")
          const failure = script.listVideos?.(next("listVideos"))
          if (failure) return Stream.fail(failure)
          const all = [...videos.values()].sort((a, b) =>
            params?.order === "asc" ? a.created_at - b.created_at : b.created_at - a.created_at
          )
          return Stream.fromIterable(all)
        })
      ),
    downloadContent: (id, options) =>
      Effect.gen(function* () {
        yield* record("downloadContent", id)
        const failure = script.downloadContent?.(id, nextOf(downloads, id))
        if (failure) return yield* Effect.fail(failure)
        if (!videos.has(id)) return yield* notFound("downloadContent", `/v1/videos/${id}/content`)
        return yield* writeMp4(options.path)
      }),
    downloadUrl: (url, options) =>
      Effect.gen(function* () {
        yield* record("downloadUrl", url)
        const failure = script.downloadUrl?.(url, nextOf(downloads, url))
        if (failure) return yield* Effect.fail(failure)
        return yield* writeMp4(options.path)
      }),
    createTextOverlay: (input) =>
      Effect.gen(function* () {
        yield* record("createTextOverlay")
        const n = next("createTextOverlay")
        const create = Effect.map(Clock.currentTimeMillis, (now) =>
          seedOverlay({ id: `ovl_${n}`, texts: input.items.map((i) => i.text), status: "QUEUED", created_at: Math.floor(now / 1000) })
        )
        return yield* script.createTextOverlay ? script.createTextOverlay(n, create, input) : create
      }),
    getTextOverlay: (id) =>
      Effect.gen(function* () {
        yield* record("getTextOverlay", id)
        const known = overlays.get(id)
        if (!known) return yield* notFound("getTextOverlay", `/v1/meta/text_overlays/${id}`)
        const answer = script.getTextOverlay
          ? script.getTextOverlay({ id, n: nextOf(polls, id), now: yield* Clock.currentTimeMillis })
          : "COMPLETE"
        if (isFailure(answer)) return yield* Effect.fail(answer)
        const overlay: TextOverlay = { ...known, ...(typeof answer === "string" ? { status: answer } : answer) }
        overlays.set(id, overlay)
        return overlay
      }),
    listVideosPage: unscripted("listVideosPage"),
    addCaptions: unscripted("addCaptions"),
    listCaptionTemplatesPage: unscripted("listCaptionTemplatesPage"),
    listCaptionTemplates: () => Stream.die(new Error("the stub MirageClient has no script for listCaptionTemplates")),
    getCaptionTemplate: unscripted("getCaptionTemplate"),
    textToSpeech: unscripted("textToSpeech")
  }

  return {
    service,
    layer: Layer.succeed(MirageClient, service),
    calls,
    count: (op) => calls.filter((c) => c.op === op).length,
    times: (op) => calls.filter((c) => c.op === op).map((c) => c.at),
    videos,
    overlays,
    seedVideo,
    seedOverlay
  }
}
