/**
 * The Mirage Video API as an Effect service: every operation of reference/mirage-openapi.yml,
 * typed requests, decoded responses and typed errors (`MirageError.ts`).
 *
 * - The service needs only `HttpClient.HttpClient`; `layer`/`layerConfig` provide the Node client.
 * - The key travels only in the `x-api-key` header, only to the API's own origin. Downloads follow
 *   redirects by hand and drop the key for any other host (file storage).
 * - Every request carries `User-Agent: clapper/<version>` (`userAgent.ts`).
 * - Multipart uploads carry `Content-Length` and stream their files from disk (`multipart.ts`).
 * - Every call is bounded by `requestTimeout`; downloads use it as a first-byte and idle timeout.
 * - The client does not retry: retry policy belongs to the runtime, which gets `RateLimited`
 *   (with `retryAfter`), `ServerError`, and `TransportError` (with `bodySent`) to decide;
 *   `RequestRefused` (411/413/415) says that the same request can never succeed.
 * - Status strings are kept as they come (see `schemas.ts`); `failedVideoError` turns a FAILED
 *   video into a `VideoFailed` error.
 */
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import type * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import { Chunk, Context, Duration, Effect, Layer, Option, Redacted, Stream } from "effect"
import type { Schema } from "effect"
import { download, type DownloadOptions, type DownloadResult, type Fetcher, writeBody } from "./fileTransfer.ts"
import { type MirageConfig, type MirageConfigOptions, loadMirageConfig } from "./mirageConfig.ts"
import { type ApiError, type DownloadError, type FileApiError, type MissingApiKey, TransportError } from "./MirageError.ts"
import { buildForm, type FormPart, filePart, textPart } from "./multipart.ts"
import { type Exchange, failForStatus, handleJson, isSuccess } from "./responses.ts"
import { CaptionTemplate, CaptionTemplateList, type ListOrder, TextOverlay, type TtsModel, Video, VideoList } from "./schemas.ts"
import { fromHttpClientError, fromUploadError, timedOut } from "./transport.ts"
import { userAgent } from "./userAgent.ts"

export type { DownloadOptions, DownloadResult } from "./fileTransfer.ts"

// ---------------------------------------------------------------------------------------------
// Inputs
// ---------------------------------------------------------------------------------------------

export interface CreateVideoInput {
  /** Path of the presenter image (PNG or JPEG). */
  readonly image: string
  /** Path of the voice track (WAV or MP3). */
  readonly audio: string
  /** Sent as `model` when given; the API's default is `mirage-video-1-latest`. */
  readonly model?: string | undefined
}

export interface ListVideosParams {
  /** By creation time; the API's default is `desc` (newest first). */
  readonly order?: ListOrder | undefined
  /** Page size, 1–100. `listVideos` uses 100 when absent; `listVideosPage` leaves the API's 20. */
  readonly limit?: number | undefined
  /** Items strictly after this video id. */
  readonly after?: string | undefined
}

export interface ListCaptionTemplatesParams {
  readonly limit?: number | undefined
  readonly after?: string | undefined
}

/** Captions for an existing video (by id, no upload) or for an uploaded MP4/MOV. */
export type AddCaptionsInput =
  | { readonly templateId: string; readonly videoId: string }
  | { readonly templateId: string; readonly videoPath: string }

export interface TextToSpeechInput {
  readonly voiceId: string
  readonly text: string
  readonly model?: TtsModel | undefined
  /** Where the WAV is written. */
  readonly path: string
}

export interface TextOverlayItem {
  readonly text: string
  readonly font?: string | undefined
  /** Font size in pixels. */
  readonly size?: number | undefined
  /** `#RRGGBB`. */
  readonly color?: string | undefined
}

export interface CreateTextOverlayInput {
  /** Path of the source video (MP4 or MOV). */
  readonly videoPath: string
  /** Up to 4 text variants, each rendered to its own output. */
  readonly items: ReadonlyArray<TextOverlayItem>
}

// ---------------------------------------------------------------------------------------------
// The service
// ---------------------------------------------------------------------------------------------

export interface MirageClientService {
  /** The API's base URL this client talks to. */
  readonly baseUrl: string
  /** `POST /v1/videos`: starts a generation job (`status: PROCESSING`). Uploads stream from disk. */
  readonly createVideo: (input: CreateVideoInput) => Effect.Effect<Video, FileApiError>
  /** `GET /v1/videos/{video_id}`. */
  readonly getVideo: (id: string) => Effect.Effect<Video, ApiError>
  /** `GET /v1/videos`: one page. */
  readonly listVideosPage: (params?: ListVideosParams) => Effect.Effect<ReadonlyArray<Video>, ApiError>
  /** `GET /v1/videos`, every page, following the `after` cursor. */
  readonly listVideos: (params?: ListVideosParams) => Stream.Stream<Video, ApiError>
  /** `GET /v1/videos/{video_id}/content`, redirected to file storage, streamed to `options.path`. */
  readonly downloadContent: (id: string, options: DownloadOptions) => Effect.Effect<DownloadResult, DownloadError>
  /** Any URL (e.g. an overlay's `video_url`); the key is sent only if it is on the API's origin. */
  readonly downloadUrl: (url: string, options: DownloadOptions) => Effect.Effect<DownloadResult, DownloadError>
  /** `POST /v1/videos/captions`: a captioning job, polled like any video. */
  readonly addCaptions: (input: AddCaptionsInput) => Effect.Effect<Video, FileApiError>
  /** `GET /v1/videos/captions/templates`: one page. */
  readonly listCaptionTemplatesPage: (params?: ListCaptionTemplatesParams) => Effect.Effect<CaptionTemplateList, ApiError>
  /** `GET /v1/videos/captions/templates`, every page while `has_more`. */
  readonly listCaptionTemplates: (params?: ListCaptionTemplatesParams) => Stream.Stream<CaptionTemplate, ApiError>
  /** `GET /v1/videos/captions/templates/{template_id}`. */
  readonly getCaptionTemplate: (id: string) => Effect.Effect<CaptionTemplate, ApiError>
  /** `POST /v1/audio/text-to-speech/{voice_id}`: streams the WAV to `input.path`; the bytes written. */
  readonly textToSpeech: (input: TextToSpeechInput) => Effect.Effect<number, FileApiError>
  /** `POST /v1/meta/text_overlays`. */
  readonly createTextOverlay: (input: CreateTextOverlayInput) => Effect.Effect<TextOverlay, FileApiError>
  /** `GET /v1/meta/text_overlays/{text_overlay_id}`. */
  readonly getTextOverlay: (id: string) => Effect.Effect<TextOverlay, ApiError>
}

export class MirageClient extends Context.Tag("clapper/MirageClient")<MirageClient, MirageClientService>() {}

/** The header the API reads the key from. */
export const apiKeyHeader = "x-api-key"

/** Page size `listVideos` uses when none is given (the API's maximum). */
export const streamPageSize = 100

const trimSlashes = (url: string): string => url.replace(/\/+$/, "")

const originOf = (url: string): string | undefined => (URL.canParse(url) ? new URL(url).origin : undefined)

const segment = (id: string): string => encodeURIComponent(id)

/**
 * The form fields of a text overlay. When each style attribute is set on every item or on none:
 * `texts` repeated, with `fonts`/`sizes`/`colors` aligned by index for the attributes set. When
 * some items set an attribute and others do not (no value can stand for "default" in an aligned
 * list), the documented `items` JSON array instead: `[{ text, style: { font, size, color } }]`.
 */
export const textOverlayParts = (items: ReadonlyArray<TextOverlayItem>): ReadonlyArray<FormPart> => {
  const picks = {
    fonts: (item: TextOverlayItem) => item.font,
    sizes: (item: TextOverlayItem) => (item.size === undefined ? undefined : String(item.size)),
    colors: (item: TextOverlayItem) => item.color
  }
  const mixed = Object.values(picks).some((pick) => {
    const set = items.filter((item) => pick(item) !== undefined).length
    return set > 0 && set < items.length
  })
  if (mixed) {
    const json = items.map((item) => ({
      text: item.text,
      style: {
        ...(item.font === undefined ? {} : { font: item.font }),
        ...(item.size === undefined ? {} : { size: item.size }),
        ...(item.color === undefined ? {} : { color: item.color })
      }
    }))
    return [textPart("items", JSON.stringify(json))]
  }
  const aligned = (name: keyof typeof picks): ReadonlyArray<FormPart> =>
    items.flatMap((item) => {
      const value = picks[name](item)
      return value === undefined ? [] : [textPart(name, value)]
    })
  return [...items.map((item) => textPart("texts", item.text)), ...aligned("fonts"), ...aligned("sizes"), ...aligned("colors")]
}

/** The service, on any `HttpClient` (which must not follow redirects by itself). */
export const make = (config: MirageConfig): Effect.Effect<MirageClientService, never, HttpClient.HttpClient> =>
  Effect.gen(function* () {
    // No trace headers to a third-party API or to its file storage; our name on every request.
    const client = (yield* HttpClient.HttpClient).pipe(
      HttpClient.withTracerPropagation(false),
      HttpClient.mapRequest(HttpClientRequest.setHeader("user-agent", userAgent))
    )
    const base = trimSlashes(config.baseUrl)
    const apiOrigin = originOf(base)
    const timeout = config.requestTimeout

    const keyText = Redacted.value(config.apiKey)
    const scrub = (text: string): string => (keyText.length >= 4 ? text.split(keyText).join("<redacted>") : text)
    const credentialsFor = (url: URL): Readonly<Record<string, string>> =>
      apiOrigin !== undefined && url.origin === apiOrigin ? { [apiKeyHeader]: Redacted.value(config.apiKey) } : {}
    const fetcher: Fetcher = { client, credentialsFor, firstByteTimeout: timeout, scrub }

    const exchange = (operation: string, path: string): Exchange => ({ operation, path, scrub })

    const withKey = (request: HttpClientRequest.HttpClientRequest) =>
      HttpClientRequest.setHeader(request, apiKeyHeader, Redacted.value(config.apiKey))

    /** Sends an API request (the key added) and returns its response. */
    const send = (
      operation: string,
      request: HttpClientRequest.HttpClientRequest
    ): Effect.Effect<HttpClientResponse.HttpClientResponse, TransportError> =>
      client.execute(withKey(request)).pipe(Effect.mapError((e) => fromHttpClientError(operation, e, scrub)))

    const withTimeout = <A, E>(operation: string, effect: Effect.Effect<A, E>): Effect.Effect<A, E | TransportError> =>
      Effect.timeoutFail(effect, {
        duration: timeout,
        onTimeout: () => timedOut(operation, `no complete answer within ${Duration.format(timeout)}`)
      })

    /** An API call answered with JSON decoded by `schema`. */
    const callJson = <A, I>(
      operation: string,
      path: string,
      request: HttpClientRequest.HttpClientRequest,
      schema: Schema.Schema<A, I>
    ): Effect.Effect<A, ApiError> =>
      withTimeout(
        operation,
        Effect.flatMap(send(operation, HttpClientRequest.acceptJson(request)), (response) =>
          handleJson(exchange(operation, path), response, schema)
        )
      ).pipe(Effect.withSpan(`MirageClient.${operation}`, { attributes: { path } }))

    const get = <A, I>(
      operation: string,
      path: string,
      schema: Schema.Schema<A, I>,
      urlParams: Record<string, string> = {}
    ): Effect.Effect<A, ApiError> => callJson(operation, path, HttpClientRequest.get(base + path, { urlParams }), schema)

    /**
     * A multipart POST: the body is laid out first (files measured and sniffed, so a missing file
     * fails before anything is sent), then streamed with its exact `Content-Length`.
     */
    const postForm = <A, I>(
      operation: string,
      path: string,
      parts: ReadonlyArray<FormPart>,
      schema: Schema.Schema<A, I>
    ): Effect.Effect<A, FileApiError> =>
      Effect.flatMap(buildForm(operation, parts), (body) => {
        const request = HttpClientRequest.post(base + path).pipe(
          HttpClientRequest.acceptJson,
          HttpClientRequest.bodyStream(body.stream, { contentType: body.contentType, contentLength: body.contentLength })
        )
        const sent = client.execute(withKey(request)).pipe(Effect.mapError((e) => fromUploadError(operation, e, scrub)))
        return withTimeout(
          operation,
          Effect.flatMap(sent, (response) => handleJson({ ...exchange(operation, path), files: body.files }, response, schema))
        ).pipe(Effect.withSpan(`MirageClient.${operation}`, { attributes: { path } }))
      })

    const defined = (params: Record<string, string | number | undefined>): Record<string, string> => {
      const out: Record<string, string> = {}
      for (const [k, v] of Object.entries(params)) if (v !== undefined) out[k] = String(v)
      return out
    }

    const listVideosPage = (params: ListVideosParams = {}) =>
      get("listVideos", "/v1/videos", VideoList, defined({ order: params.order, limit: params.limit, after: params.after }))

    const listCaptionTemplatesPage = (params: ListCaptionTemplatesParams = {}) =>
      get(
        "listCaptionTemplates",
        "/v1/videos/captions/templates",
        CaptionTemplateList,
        defined({ limit: params.limit, after: params.after })
      )

    const textToSpeech = (input: TextToSpeechInput): Effect.Effect<number, FileApiError> => {
      const operation = "textToSpeech"
      const path = `/v1/audio/text-to-speech/${segment(input.voiceId)}`
      const request = HttpClientRequest.post(base + path).pipe(
        HttpClientRequest.accept("audio/wav"),
        HttpClientRequest.bodyUnsafeJson({ text: input.text, model: input.model ?? "mirage-audio-1" })
      )
      return withTimeout(operation, send(operation, request)).pipe(
        Effect.flatMap((response): Effect.Effect<number, FileApiError> => {
          if (!isSuccess(response.status)) return failForStatus(exchange(operation, path), response)
          const length = response.headers["content-length"]
          const expectedBytes = length !== undefined && /^\d+$/.test(length) ? Number(length) : undefined
          return writeBody(operation, response, {
            path: input.path,
            position: 0,
            expectedBytes,
            totalBytes: expectedBytes,
            idleTimeout: timeout
          }).pipe(
            // Speech is generated per request: a cut-short answer cannot be resumed, only asked again.
            Effect.catchTag("IncompleteDownload", (e) =>
              Effect.fail(new TransportError({ operation, reason: `the audio was cut short: ${e.reason}`, bodySent: true }))
            )
          )
        }),
        Effect.withSpan(`MirageClient.${operation}`, { attributes: { path } })
      )
    }

    return MirageClient.of({
      baseUrl: base,

      createVideo: (input) =>
        postForm(
          "createVideo",
          "/v1/videos",
          [
            filePart("image_reference", input.image),
            filePart("audio_reference", input.audio),
            ...(input.model === undefined ? [] : [textPart("model", input.model)])
          ],
          Video
        ),

      getVideo: (id) => get("getVideo", `/v1/videos/${segment(id)}`, Video),

      listVideosPage,

      listVideos: (params = {}) =>
        Stream.paginateChunkEffect(params.after, (after) => {
          const limit = params.limit ?? streamPageSize
          return Effect.map(listVideosPage({ ...params, limit, after }), (page) => {
            const last = page[page.length - 1]
            const next = page.length >= limit && last !== undefined ? Option.some(last.id) : Option.none()
            return [Chunk.fromIterable(page), next] as const
          })
        }),

      downloadContent: (id, options) =>
        download(fetcher, "downloadContent", `${base}/v1/videos/${segment(id)}/content`, options, timeout).pipe(
          Effect.withSpan("MirageClient.downloadContent", { attributes: { videoId: id } })
        ),

      downloadUrl: (url, options) =>
        download(fetcher, "downloadUrl", url, options, timeout).pipe(Effect.withSpan("MirageClient.downloadUrl")),

      addCaptions: (input) =>
        postForm(
          "addCaptions",
          "/v1/videos/captions",
          [
            textPart("caption_template_id", input.templateId),
            "videoId" in input ? textPart("video_id", input.videoId) : filePart("video", input.videoPath)
          ],
          Video
        ),

      listCaptionTemplatesPage,

      listCaptionTemplates: (params = {}) =>
        Stream.paginateChunkEffect(params.after, (after) =>
          Effect.map(listCaptionTemplatesPage({ ...params, after }), (page) => {
            const last = page.data[page.data.length - 1]
            const next = page.has_more && last !== undefined ? Option.some(last.id) : Option.none()
            return [Chunk.fromIterable(page.data), next] as const
          })
        ),

      getCaptionTemplate: (id) => get("getCaptionTemplate", `/v1/videos/captions/templates/${segment(id)}`, CaptionTemplate),

      textToSpeech,

      createTextOverlay: (input) =>
        postForm(
          "createTextOverlay",
          "/v1/meta/text_overlays",
          [filePart("video", input.videoPath), ...textOverlayParts(input.items)],
          TextOverlay
        ),

      getTextOverlay: (id) => get("getTextOverlay", `/v1/meta/text_overlays/${segment(id)}`, TextOverlay)
    })
  })

/** The service on a given `HttpClient`. */
export const layerWithoutHttpClient = (config: MirageConfig): Layer.Layer<MirageClient, never, HttpClient.HttpClient> =>
  Layer.effect(MirageClient, make(config))

/**
 * Node's HTTP client on an agent that keeps connections open: `new http.Agent()` does not by
 * default, and a new connection (a TLS handshake, against the real API) per status check or
 * download cost more CPU than the rest of a request.
 */
const nodeHttpClient = NodeHttpClient.layerWithoutAgent.pipe(Layer.provide(NodeHttpClient.makeAgentLayer({ keepAlive: true })))

/** The service on Node's HTTP client. */
export const layer = (config: MirageConfig): Layer.Layer<MirageClient> => layerWithoutHttpClient(config).pipe(Layer.provide(nodeHttpClient))

/**
 * The service configured from the environment (through Effect `Config`): the key from the variable
 * named `apiKeyEnv` (default `MIRAGE_API_KEY`), failing with `MissingApiKey` when it is unset or
 * blank; the base URL from `baseUrl`, else `MIRAGE_BASE_URL`, else `https://api.mirage.app`.
 */
export const layerConfig = (options: MirageConfigOptions = {}): Layer.Layer<MirageClient, MissingApiKey> =>
  Layer.effect(MirageClient, Effect.flatMap(loadMirageConfig(options), make)).pipe(Layer.provide(nodeHttpClient))
