/**
 * Schemas of the objects the Mirage Video API answers with (reference/mirage-openapi.yml).
 *
 * Decoding is deliberately tolerant, because the client must keep working when the provider adds
 * to its API:
 * - unknown extra fields are ignored (the `Schema.Struct` default, `onExcessProperty: "ignore"`);
 * - nullable fields accept `null` or absence and decode to `null` (always present in the result);
 * - status strings are kept as plain strings, so a status the API adds later still decodes; the
 *   known values are exported as literal schemas with guards (`isKnownVideoStatus`, …) and the
 *   runtime decides what an unknown status means;
 * - enums the API may extend (`model`, `object`) are plain strings;
 * - the deprecated `video_id` of a video is accepted when present and never required.
 *
 * Field names are the API's own (snake_case), so a payload reads the same in the docs, on the wire
 * and in code.
 */
import { Schema } from "effect"

/** A nullable field that may also be absent; decodes to `null` when missing. */
const nullable = <A, I>(schema: Schema.Schema<A, I>) => Schema.optionalWith(Schema.NullOr(schema), { default: () => null })

// ---------------------------------------------------------------------------------------------
// Statuses
// ---------------------------------------------------------------------------------------------

/** The statuses of a video documented by the API. */
/** QUEUED is in the provider's docs (a busy provider queues work) though not in the OpenAPI enum. */
export const KnownVideoStatus = Schema.Literal("QUEUED", "PROCESSING", "COMPLETE", "FAILED", "CANCELLED")
export type KnownVideoStatus = typeof KnownVideoStatus.Type

/** The statuses of a text overlay job documented by the API. */
export const KnownTextOverlayStatus = Schema.Literal("QUEUED", "PROCESSING", "COMPLETE", "FAILED", "CANCELLED")
export type KnownTextOverlayStatus = typeof KnownTextOverlayStatus.Type

/** The statuses of one rendered text overlay item documented by the API. */
export const KnownTextOverlayItemStatus = Schema.Literal("COMPLETE", "FAILED")
export type KnownTextOverlayItemStatus = typeof KnownTextOverlayItemStatus.Type

export const isKnownVideoStatus: (status: string) => status is KnownVideoStatus = Schema.is(KnownVideoStatus)
export const isKnownTextOverlayStatus: (status: string) => status is KnownTextOverlayStatus = Schema.is(KnownTextOverlayStatus)
export const isKnownTextOverlayItemStatus: (status: string) => status is KnownTextOverlayItemStatus = Schema.is(KnownTextOverlayItemStatus)

// ---------------------------------------------------------------------------------------------
// Videos
// ---------------------------------------------------------------------------------------------

/** `MAVideoError`: why a job failed (`rate_limit_exceeded` is worth a resubmit; most others are not). */
export const ApiErrorPayload = Schema.Struct({
  code: Schema.String,
  message: Schema.String
})
export type ApiErrorPayload = typeof ApiErrorPayload.Type

/** `MAVideo`: a generation or captioning job. */
export const Video = Schema.Struct({
  id: Schema.String,
  object: Schema.optional(Schema.String),
  /** One of `KnownVideoStatus`, or a status this client does not know yet. */
  status: Schema.String,
  /** Unix seconds. */
  created_at: Schema.Number,
  /** Unix seconds, when processing completed. */
  completed_at: nullable(Schema.Number),
  /** 0–100. */
  progress: nullable(Schema.Number),
  error: nullable(ApiErrorPayload),
  model: nullable(Schema.String),
  source_video_id: nullable(Schema.String),
  caption_template_id: nullable(Schema.String),
  share_link_url: nullable(Schema.String),
  /** Deprecated by the API in favour of `id`; accepted, never required. */
  video_id: Schema.optional(Schema.String)
})
export type Video = typeof Video.Type
export type VideoEncoded = typeof Video.Encoded

/** `GET /v1/videos` answers a bare array. */
export const VideoList = Schema.Array(Video)

// ---------------------------------------------------------------------------------------------
// Caption templates
// ---------------------------------------------------------------------------------------------

/** `MACaptionTemplate`. */
export const CaptionTemplate = Schema.Struct({
  id: Schema.String,
  object: Schema.optional(Schema.String),
  name: Schema.String,
  preview_url: nullable(Schema.String),
  created_at: Schema.Number
})
export type CaptionTemplate = typeof CaptionTemplate.Type

/** `MACaptionTemplateList`: one page of templates. */
export const CaptionTemplateList = Schema.Struct({
  data: Schema.Array(CaptionTemplate),
  object: Schema.optional(Schema.String),
  has_more: Schema.Boolean
})
export type CaptionTemplateList = typeof CaptionTemplateList.Type

// ---------------------------------------------------------------------------------------------
// Text overlays
// ---------------------------------------------------------------------------------------------

/** `MetaTextOverlayResult`: one rendered text variant. */
export const TextOverlayResult = Schema.Struct({
  index: Schema.Number,
  text: Schema.String,
  /** One of `KnownTextOverlayItemStatus`, or a status this client does not know yet. */
  status: Schema.String,
  video_url: nullable(Schema.String),
  error: nullable(ApiErrorPayload)
})
export type TextOverlayResult = typeof TextOverlayResult.Type

/** `MetaTextOverlay`: a text overlay job. */
export const TextOverlay = Schema.Struct({
  id: Schema.String,
  object: Schema.optional(Schema.String),
  /** One of `KnownTextOverlayStatus`, or a status this client does not know yet. */
  status: Schema.String,
  created_at: Schema.Number,
  completed_at: nullable(Schema.Number),
  results: Schema.optionalWith(Schema.Array(TextOverlayResult), { default: () => [] }),
  error: nullable(ApiErrorPayload)
})
export type TextOverlay = typeof TextOverlay.Type

// ---------------------------------------------------------------------------------------------
// Validation errors (422)
// ---------------------------------------------------------------------------------------------

/** One entry of a 422 answer's `detail`: where (`loc`), what (`msg`) and its kind (`type`). */
export const ValidationIssue = Schema.Struct({
  loc: Schema.Array(Schema.Union(Schema.String, Schema.Number)),
  msg: Schema.String,
  type: Schema.String
})
export type ValidationIssue = typeof ValidationIssue.Type

/** `HTTPValidationError`. Some servers answer `detail` as a plain string; that is accepted too. */
export const HttpValidationError = Schema.Struct({
  detail: Schema.optional(Schema.Union(Schema.Array(ValidationIssue), Schema.String))
})
export type HttpValidationError = typeof HttpValidationError.Type

/**
 * The provider's error envelope, documented for 429:
 * `{"error": {"type": "rate_limit_exceeded", "message": "Rate limit exceeded."}}`. Both fields
 * are optional here: a gateway in front of the API may send less.
 */
export const ProviderErrorBody = Schema.Struct({
  error: Schema.Struct({
    type: Schema.optional(Schema.String),
    message: Schema.optional(Schema.String)
  })
})
export type ProviderErrorBody = typeof ProviderErrorBody.Type

// ---------------------------------------------------------------------------------------------
// Requests
// ---------------------------------------------------------------------------------------------

/** The only video model the API documents (and its default). */
export const defaultVideoModel = "mirage-video-1-latest"

/** The only text-to-speech model the API documents. */
export const TtsModel = Schema.Literal("mirage-audio-1")
export type TtsModel = typeof TtsModel.Type

/** `TTSRequest`: the JSON body of `POST /v1/audio/text-to-speech/{voice_id}`. */
export const TtsRequest = Schema.Struct({
  text: Schema.String,
  model: TtsModel
})
export type TtsRequest = typeof TtsRequest.Type

/** Sort order of `GET /v1/videos` by creation time. */
export const ListOrder = Schema.Literal("asc", "desc")
export type ListOrder = typeof ListOrder.Type
