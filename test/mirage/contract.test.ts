/**
 * What the client puts on the wire, seen by a real loopback HTTP server: paths, methods, the
 * `x-api-key` header, multipart field names, file names and content types, JSON bodies, query
 * parameters, pagination and redirect handling (the key never leaves the API's origin).
 */
import { describe, expect, it } from "@effect/vitest"
import { Chunk, Effect, Exit, Stream } from "effect"
import { readFileSync, statSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { MirageClient } from "../../src/mirage/MirageClient.ts"
import {
  alicePng,
  bobJpg,
  helloWav,
  parseMultipart,
  type Recorded,
  recorder,
  type Reply,
  secretKey,
  tempDir,
  welcomeMp3,
  withClient
} from "./support.ts"

const json = (body: unknown, status = 200): Reply => ({
  status,
  headers: { "content-type": "application/json" },
  body: JSON.stringify(body)
})

const video = (id: string, extra: Record<string, unknown> = {}) => ({
  id,
  object: "video",
  status: "PROCESSING",
  created_at: 1730822400,
  progress: 0,
  video_id: id,
  ...extra
})

/** A tiny file that sniffs as MP4 (an `ftyp` box). */
const writeMp4 = (dir: string): string => {
  const path = join(dir, "clip.mp4")
  writeFileSync(
    path,
    Buffer.concat([
      Buffer.from([0, 0, 0, 0x18]),
      Buffer.from("ftypisom"),
      Buffer.from([0, 0, 2, 0]),
      Buffer.from("isommp41"),
      Buffer.alloc(256)
    ])
  )
  return path
}

const only = (requests: ReadonlyArray<Recorded>): Recorded => {
  expect(requests).toHaveLength(1)
  return requests[0]!
}

describe("the client's requests match the published contract", () => {
  it.scopedLive("createVideo: multipart image_reference, audio_reference, model; x-api-key", () =>
    Effect.gen(function* () {
      const server = yield* recorder(() => json(video("video_1")))
      const created = yield* withClient(
        server.baseUrl,
        Effect.flatMap(MirageClient, (c) => c.createVideo({ image: alicePng, audio: helloWav, model: "mirage-video-1-latest" }))
      )
      expect(created.id).toBe("video_1")
      const req = only(server.requests)
      expect(req.method).toBe("POST")
      expect(req.url).toBe("/v1/videos")
      expect(req.headers["x-api-key"]).toBe(secretKey)
      expect(req.headers["accept"]).toBe("application/json")
      expect(req.headers["content-type"]).toMatch(/^multipart\/form-data; boundary=/)
      expect(req.headers["traceparent"]).toBeUndefined()
      const parts = parseMultipart(req.headers["content-type"], req.body)
      expect(parts.map((p) => p.name)).toEqual(["image_reference", "audio_reference", "model"])
      expect(parts[0]).toMatchObject({ filename: "alice.png", contentType: "image/png" })
      expect(parts[0]!.data.equals(readFileSync(alicePng))).toBe(true)
      expect(parts[1]).toMatchObject({ filename: "hello.wav", contentType: "audio/wav" })
      expect(parts[1]!.data.equals(readFileSync(helloWav))).toBe(true)
      expect(parts[2]).toMatchObject({ filename: undefined })
      expect(parts[2]!.data.toString()).toBe("mirage-video-1-latest")
    })
  )

  it.scopedLive("createVideo: JPEG and MP3 get their content types; no model part unless given", () =>
    Effect.gen(function* () {
      const server = yield* recorder(() => json(video("video_2")))
      yield* withClient(
        server.baseUrl,
        Effect.flatMap(MirageClient, (c) => c.createVideo({ image: bobJpg, audio: welcomeMp3 }))
      )
      const req = only(server.requests)
      const parts = parseMultipart(req.headers["content-type"], req.body)
      expect(parts.map((p) => [p.name, p.filename, p.contentType])).toEqual([
        ["image_reference", "bob.jpg", "image/jpeg"],
        ["audio_reference", "welcome.mp3", "audio/mpeg"]
      ])
    })
  )

  it.scopedLive("getVideo, listVideosPage, getCaptionTemplate, getTextOverlay: paths and query", () =>
    Effect.gen(function* () {
      const server = yield* recorder((r) => {
        if (r.url.startsWith("/v1/videos/captions/templates/")) return json({ id: "ctpl_1", name: "Bold", created_at: 1 })
        if (r.url.startsWith("/v1/meta/text_overlays/")) return json({ id: "ov_1", status: "QUEUED", created_at: 1 })
        if (r.url.startsWith("/v1/videos?")) return json([video("a"), video("b")])
        return json(video("video_a/b"))
      })
      yield* withClient(
        server.baseUrl,
        Effect.gen(function* () {
          const c = yield* MirageClient
          yield* c.getVideo("video_a/b")
          const page = yield* c.listVideosPage({ order: "desc", limit: 2, after: "video_0" })
          expect(page.map((v) => v.id)).toEqual(["a", "b"])
          yield* c.getCaptionTemplate("ctpl_1")
          yield* c.getTextOverlay("ov_1")
        })
      )
      expect(server.requests.map((r) => `${r.method} ${r.url}`)).toEqual([
        "GET /v1/videos/video_a%2Fb",
        "GET /v1/videos?order=desc&limit=2&after=video_0",
        "GET /v1/videos/captions/templates/ctpl_1",
        "GET /v1/meta/text_overlays/ov_1"
      ])
      for (const r of server.requests) expect(r.headers["x-api-key"]).toBe(secretKey)
    })
  )

  it.scopedLive("listVideos follows the after cursor until a short page", () =>
    Effect.gen(function* () {
      const all = ["v1", "v2", "v3", "v4", "v5"]
      const server = yield* recorder((r) => {
        const url = new URL(r.url, "http://x")
        const after = url.searchParams.get("after")
        const limit = Number(url.searchParams.get("limit"))
        const from = after === null ? 0 : all.indexOf(after) + 1
        return json(all.slice(from, from + limit).map((id) => video(id)))
      })
      const ids = yield* withClient(
        server.baseUrl,
        Effect.flatMap(MirageClient, (c) => Stream.runCollect(c.listVideos({ limit: 2, order: "asc" })))
      )
      expect(Chunk.toReadonlyArray(ids).map((v) => v.id)).toEqual(all)
      expect(server.requests.map((r) => r.url)).toEqual([
        "/v1/videos?order=asc&limit=2",
        "/v1/videos?order=asc&limit=2&after=v2",
        "/v1/videos?order=asc&limit=2&after=v4"
      ])
      const firstTwo = yield* withClient(
        server.baseUrl,
        Effect.flatMap(MirageClient, (c) => Stream.runCollect(Stream.take(c.listVideos(), 2)))
      )
      expect(Chunk.size(firstTwo)).toBe(2)
      expect(server.requests.at(-1)?.url).toBe("/v1/videos?limit=100")
    })
  )

  it.scopedLive("listCaptionTemplates follows the cursor while has_more", () =>
    Effect.gen(function* () {
      const server = yield* recorder((r) => {
        const after = new URL(r.url, "http://x").searchParams.get("after")
        if (after === null)
          return json({
            object: "list",
            data: [
              { id: "t1", name: "A", created_at: 1 },
              { id: "t2", name: "B", created_at: 1 }
            ],
            has_more: true
          })
        return json({ object: "list", data: [{ id: "t3", name: "C", created_at: 1 }], has_more: false })
      })
      const templates = yield* withClient(
        server.baseUrl,
        Effect.flatMap(MirageClient, (c) => Stream.runCollect(c.listCaptionTemplates()))
      )
      expect(Chunk.toReadonlyArray(templates).map((t) => t.id)).toEqual(["t1", "t2", "t3"])
      expect(server.requests.map((r) => r.url)).toEqual(["/v1/videos/captions/templates", "/v1/videos/captions/templates?after=t2"])
    })
  )

  it.scopedLive("addCaptions: caption_template_id with video_id, or with an uploaded video", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      const mp4 = writeMp4(dir)
      const server = yield* recorder(() =>
        json(video("video_cap", { caption_template_id: "ctpl_1", source_video_id: "video_1", model: null }))
      )
      yield* withClient(
        server.baseUrl,
        Effect.gen(function* () {
          const c = yield* MirageClient
          const byId = yield* c.addCaptions({ templateId: "ctpl_1", videoId: "video_1" })
          expect(byId.caption_template_id).toBe("ctpl_1")
          yield* c.addCaptions({ templateId: "ctpl_1", videoPath: mp4 })
        })
      )
      const [byId, byUpload] = server.requests
      expect(byId!.url).toBe("/v1/videos/captions")
      expect(parseMultipart(byId!.headers["content-type"], byId!.body).map((p) => [p.name, p.data.toString()])).toEqual([
        ["caption_template_id", "ctpl_1"],
        ["video_id", "video_1"]
      ])
      const parts = parseMultipart(byUpload!.headers["content-type"], byUpload!.body)
      expect(parts.map((p) => [p.name, p.filename, p.contentType])).toEqual([
        ["caption_template_id", undefined, undefined],
        ["video", "clip.mp4", "video/mp4"]
      ])
    })
  )

  it.scopedLive("textToSpeech: JSON {text, model} to /v1/audio/text-to-speech/{voice_id}; the WAV streams to the file", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      const wav = readFileSync(helloWav)
      const server = yield* recorder(() => ({ status: 200, headers: { "content-type": "audio/wav" }, body: wav }))
      const out = join(dir, "speech.wav")
      const written = yield* withClient(
        server.baseUrl,
        Effect.flatMap(MirageClient, (c) => c.textToSpeech({ voiceId: "voice_1", text: "Hello, welcome to Mirage!", path: out }))
      )
      expect(written).toBe(wav.length)
      expect(readFileSync(out).equals(wav)).toBe(true)
      const req = only(server.requests)
      expect(`${req.method} ${req.url}`).toBe("POST /v1/audio/text-to-speech/voice_1")
      expect(req.headers["content-type"]).toBe("application/json")
      expect(req.headers["x-api-key"]).toBe(secretKey)
      expect(JSON.parse(req.body.toString())).toEqual({ text: "Hello, welcome to Mirage!", model: "mirage-audio-1" })
    })
  )

  it.scopedLive("createTextOverlay: video plus texts repeated, fonts/sizes/colors aligned by index", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      const mp4 = writeMp4(dir)
      const server = yield* recorder(() => json({ id: "ov_1", object: "text_overlay", status: "QUEUED", created_at: 1, results: [] }))
      const fields = (req: Recorded) =>
        parseMultipart(req.headers["content-type"], req.body)
          .slice(1)
          .map((p) => [p.name, p.data.toString()])
      yield* withClient(
        server.baseUrl,
        Effect.gen(function* () {
          const c = yield* MirageClient
          const overlay = yield* c.createTextOverlay({
            videoPath: mp4,
            items: [
              { text: "Spring sale", font: "Inter", size: 64 },
              { text: "Ends Friday", font: "Lora", size: 48 }
            ]
          })
          expect(overlay).toMatchObject({ id: "ov_1", status: "QUEUED", results: [] })
          yield* c.createTextOverlay({ videoPath: mp4, items: [{ text: "Plain" }] })
          // Styles on some items only: the documented `items` JSON carries them per item.
          yield* c.createTextOverlay({ videoPath: mp4, items: [{ text: "A", color: "#FF0000" }, { text: "B" }] })
        })
      )
      const [aligned, plain, mixed] = server.requests
      expect(`${aligned!.method} ${aligned!.url}`).toBe("POST /v1/meta/text_overlays")
      const parts = parseMultipart(aligned!.headers["content-type"], aligned!.body)
      expect(parts[0]).toMatchObject({ name: "video", filename: "clip.mp4", contentType: "video/mp4" })
      expect(fields(aligned!)).toEqual([
        ["texts", "Spring sale"],
        ["texts", "Ends Friday"],
        ["fonts", "Inter"],
        ["fonts", "Lora"],
        ["sizes", "64"],
        ["sizes", "48"]
      ])
      expect(fields(plain!)).toEqual([["texts", "Plain"]])
      const mixedFields = fields(mixed!)
      expect(mixedFields.map(([name]) => name)).toEqual(["items"])
      expect(JSON.parse(mixedFields[0]![1]!)).toEqual([
        { text: "A", style: { color: "#FF0000" } },
        { text: "B", style: {} }
      ])
    })
  )

  it.scopedLive("downloadContent follows a redirect to another origin without the key; Range when resuming", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      const content = Buffer.alloc(100_000, 7)
      const files = yield* recorder((r) => {
        const range = /bytes=(\d+)-/.exec(String(r.headers["range"] ?? ""))
        if (range === null) return { status: 200, headers: { "content-length": String(content.length) }, body: content }
        const from = Number(range[1])
        return {
          status: 206,
          headers: {
            "content-range": `bytes ${from}-${content.length - 1}/${content.length}`,
            "content-length": String(content.length - from)
          },
          body: content.subarray(from)
        }
      })
      const api = yield* recorder((r) => ({ status: 302, headers: { location: `${files.baseUrl}/files${r.url}` } }))
      const out = join(dir, "video.mp4")
      const result = yield* withClient(
        api.baseUrl,
        Effect.flatMap(MirageClient, (c) => c.downloadContent("video_1", { path: out }))
      )
      expect(result).toEqual({ bytesWritten: content.length, totalBytes: content.length, resumed: false, fileSize: content.length })
      expect(readFileSync(out).equals(content)).toBe(true)
      expect(api.requests[0]!.url).toBe("/v1/videos/video_1/content")
      expect(api.requests[0]!.headers["x-api-key"]).toBe(secretKey)
      expect(files.requests[0]!.url).toBe("/files/v1/videos/video_1/content")
      expect(files.requests[0]!.headers["x-api-key"]).toBeUndefined()

      writeFileSync(out, content.subarray(0, 40_000))
      const resumed = yield* withClient(
        api.baseUrl,
        Effect.flatMap(MirageClient, (c) => c.downloadContent("video_1", { path: out, resumeFrom: 40_000 }))
      )
      expect(resumed).toEqual({ bytesWritten: 60_000, totalBytes: content.length, resumed: true, fileSize: content.length })
      expect(readFileSync(out).equals(content)).toBe(true)
      expect(files.requests[1]!.headers["range"]).toBe("bytes=40000-")
      expect(files.requests[1]!.headers["x-api-key"]).toBeUndefined()
    })
  )

  it.scopedLive("a 200 to a ranged request starts over; a file shorter than resumeFrom is not resumed; 416 at the end is done", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      const content = Buffer.from("0123456789".repeat(1000))
      let mode: "ignore-range" | "416" = "ignore-range"
      const files = yield* recorder(() =>
        mode === "ignore-range"
          ? { status: 200, headers: { "content-length": String(content.length) }, body: content }
          : { status: 416, headers: { "content-range": `bytes */${content.length}` } }
      )
      const out = join(dir, "v.mp4")
      writeFileSync(out, Buffer.alloc(5000, 0x41))
      yield* withClient(
        files.baseUrl,
        Effect.gen(function* () {
          const c = yield* MirageClient
          const restarted = yield* c.downloadUrl(`${files.baseUrl}/f`, { path: out, resumeFrom: 5000 })
          expect(restarted).toMatchObject({ bytesWritten: content.length, resumed: false })
          expect(readFileSync(out).equals(content)).toBe(true)
          expect(files.requests[0]!.headers["range"]).toBe("bytes=5000-")
          // downloadUrl on the API's own origin carries the key
          expect(files.requests[0]!.headers["x-api-key"]).toBe(secretKey)

          const tooShort = yield* c.downloadUrl(`${files.baseUrl}/f`, { path: join(dir, "absent.mp4"), resumeFrom: 5000 })
          expect(tooShort.resumed).toBe(false)
          expect(files.requests[1]!.headers["range"]).toBeUndefined()

          mode = "416"
          const done = yield* c.downloadUrl(`${files.baseUrl}/f`, { path: out, resumeFrom: content.length })
          expect(done).toEqual({ bytesWritten: 0, totalBytes: content.length, resumed: true, fileSize: content.length })
          expect(statSync(out).size).toBe(content.length)
        })
      )
    })
  )

  it.scopedLive("downloadUrl to another origin never carries the key; redirect loops stop", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      const other = yield* recorder((r) =>
        r.url === "/loop" ? { status: 307, headers: { location: "/loop" } } : { status: 200, body: "overlay" }
      )
      const api = yield* recorder(() => json([]))
      const out = join(dir, "overlay.mp4")
      const exit = yield* withClient(
        api.baseUrl,
        Effect.gen(function* () {
          const c = yield* MirageClient
          const ok = yield* c.downloadUrl(`${other.baseUrl}/overlay.mp4`, { path: out })
          expect(ok.bytesWritten).toBe(7)
          return yield* Effect.exit(c.downloadUrl(`${other.baseUrl}/loop`, { path: out }))
        })
      )
      expect(other.requests.every((r) => r.headers["x-api-key"] === undefined)).toBe(true)
      expect(api.requests).toHaveLength(0)
      expect(Exit.isFailure(exit)).toBe(true)
      if (Exit.isFailure(exit)) expect(String(exit.cause)).toMatch(/more than 5 redirects/)
      expect(other.requests.filter((r) => r.url === "/loop")).toHaveLength(6)
    })
  )
})
