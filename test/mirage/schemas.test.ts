import { describe, expect, it } from "@effect/vitest"
import { Either, Schema } from "effect"
import { readFileSync } from "node:fs"
import { join } from "node:path"
import {
  CaptionTemplate,
  CaptionTemplateList,
  HttpValidationError,
  isKnownTextOverlayStatus,
  isKnownVideoStatus,
  TextOverlay,
  TtsRequest,
  Video,
  VideoList
} from "../../src/mirage/schemas.ts"
import { referenceDir } from "./support.ts"

const decode =
  <A, I>(schema: Schema.Schema<A, I>) =>
  (u: unknown) =>
    Schema.decodeUnknownEither(schema)(u)

const example = (name: string): unknown => JSON.parse(readFileSync(join(referenceDir, name), "utf8"))

const at = (u: unknown, ...path: ReadonlyArray<string>): unknown =>
  path.reduce<unknown>((o, k) => (typeof o === "object" && o !== null ? Reflect.get(o, k) : undefined), u)

describe("Schemas", () => {
  it("decode the published example payloads", () => {
    const generate = example("generate-video-example.json")
    const created = decode(Video)(at(generate, "response", "body"))
    expect(Either.isRight(created)).toBe(true)
    const complete = Either.getOrThrow(decode(Video)(at(generate, "poll_example", "response_complete", "body")))
    expect(complete).toMatchObject({ id: "video_abc123def456", status: "COMPLETE", progress: 100, completed_at: 1730822520 })

    const captions = Either.getOrThrow(decode(Video)(at(example("add-captions-example.json"), "response", "body")))
    expect(captions).toMatchObject({
      id: "video_cap789xyz",
      model: null,
      source_video_id: "video_abc123def456",
      caption_template_id: "ctpl_yvE0ZnYzEj6ClCD2ee1f"
    })
  })

  it("Video: nullable fields may be null or absent, the deprecated video_id is optional, extra fields are ignored", () => {
    const minimal = Either.getOrThrow(decode(Video)({ id: "v1", status: "PROCESSING", created_at: 1 }))
    expect(minimal).toEqual({
      id: "v1",
      status: "PROCESSING",
      created_at: 1,
      completed_at: null,
      progress: null,
      error: null,
      model: null,
      source_video_id: null,
      caption_template_id: null,
      share_link_url: null
    })
    const extra = Either.getOrThrow(
      decode(Video)({ id: "v2", status: "FAILED", created_at: 2, error: { code: "x", message: "y", hint: 1 }, brand_new: [1] })
    )
    expect(extra.error).toEqual({ code: "x", message: "y" })
    expect("brand_new" in extra).toBe(false)
    expect(Either.isLeft(decode(Video)({ status: "COMPLETE", created_at: 1 }))).toBe(true)
  })

  it("unknown status strings decode and are recognisable as unknown", () => {
    const v = Either.getOrThrow(decode(Video)({ id: "v", status: "ARCHIVED", created_at: 1 }))
    expect(v.status).toBe("ARCHIVED")
    expect(isKnownVideoStatus(v.status)).toBe(false)
    expect(isKnownVideoStatus("COMPLETE")).toBe(true)
    const o = Either.getOrThrow(decode(TextOverlay)({ id: "o", status: "PAUSED", created_at: 1 }))
    expect(o.results).toEqual([])
    expect(isKnownTextOverlayStatus(o.status)).toBe(false)
  })

  it("text overlays, caption templates, lists and validation errors", () => {
    const overlay = Either.getOrThrow(
      decode(TextOverlay)({
        id: "d7f76ec6-2500-4d23-a2bc-648f4e904555",
        object: "text_overlay",
        status: "COMPLETE",
        created_at: 1730822400,
        completed_at: 1730822500,
        results: [
          { index: 0, text: "Hi", status: "COMPLETE", video_url: "https://files.example/a.mp4", error: null },
          { index: 1, text: "Yo", status: "FAILED", error: { code: "render_failed", message: "nope" } }
        ]
      })
    )
    expect(overlay.results[1]).toEqual({
      index: 1,
      text: "Yo",
      status: "FAILED",
      video_url: null,
      error: { code: "render_failed", message: "nope" }
    })
    const template = Either.getOrThrow(decode(CaptionTemplate)({ id: "ctpl_1", name: "Bold", created_at: 1 }))
    expect(template.preview_url).toBeNull()
    const page = Either.getOrThrow(
      decode(CaptionTemplateList)({ data: [{ id: "ctpl_1", name: "Bold", created_at: 1, extra: true }], has_more: false, object: "list" })
    )
    expect(page.data).toHaveLength(1)
    expect(Either.getOrThrow(decode(VideoList)([]))).toEqual([])
    const invalid = Either.getOrThrow(
      decode(HttpValidationError)({ detail: [{ loc: ["body", "image_reference"], msg: "bad", type: "value_error", ctx: {} }] })
    )
    expect(invalid.detail).toEqual([{ loc: ["body", "image_reference"], msg: "bad", type: "value_error" }])
    expect(Either.getOrThrow(decode(HttpValidationError)({ detail: "Not Found" })).detail).toBe("Not Found")
    expect(Schema.encodeSync(TtsRequest)({ text: "Hello", model: "mirage-audio-1" })).toEqual({ text: "Hello", model: "mirage-audio-1" })
  })
})
