/**
 * Uploads on the wire, seen by real loopback servers: multipart bodies carry an exact
 * `Content-Length` (never `Transfer-Encoding: chunked`) and parse as RFC 7578 forms with an
 * independent parser (undici's, behind `Response.formData()`); every request names itself with
 * `User-Agent: clapper/<version>`; a file that changes size between measuring and sending fails
 * with `LocalFileError` and never yields a complete body; the simulator, which answers 411 to
 * chunked bodies, takes every upload.
 */
import { describe, expect, it } from "@effect/vitest"
import { Chunk, Effect, Stream } from "effect"
import { appendFileSync, closeSync, copyFileSync, ftruncateSync, openSync, readFileSync, truncateSync, writeFileSync } from "node:fs"
import type * as Http from "node:http"
import { join } from "node:path"
import { MirageClient } from "../../src/mirage/MirageClient.ts"
import { buildForm, filePart, textPart } from "../../src/mirage/multipart.ts"
import { perMinute, uniformQuotas } from "../../src/mirage/quotas.ts"
import { userAgent } from "../../src/mirage/userAgent.ts"
import * as Simulator from "../../src/sim/Simulator.ts"
import { expectNoKey } from "./keyLeak.ts"
import {
  alicePng,
  bobJpg,
  helloWav,
  parseMultipart,
  rawServer,
  type Recorded,
  recorder,
  repoRoot,
  secretKey,
  tempDir,
  welcomeMp3,
  withClient
} from "./support.ts"

const videoJson = (id: string) => JSON.stringify({ id, object: "video", status: "PROCESSING", created_at: 1, progress: 0 })

const okVideo = () => ({ status: 200, headers: { "content-type": "application/json" }, body: videoJson("video_1") })

/** A tiny file that sniffs as MP4 (an `ftyp` box). */
const writeMp4 = (path: string): string => {
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

/** A sparse file of `size` zero bytes (no disk use). */
const sparseFile = (path: string, size: number): string => {
  const fd = openSync(path, "w")
  ftruncateSync(fd, size)
  closeSync(fd)
  return path
}

/** The body as an independent parser (undici's WHATWG `FormData` parsing) reads it. */
const formDataOf = (req: Recorded): Effect.Effect<FormData> =>
  Effect.promise(() => new Response(req.body, { headers: { "content-type": String(req.headers["content-type"]) } }).formData())

const fileOf = (form: FormData, name: string): File => {
  const value = form.get(name)
  if (!(value instanceof File)) throw new Error(`${name} is not a file part`)
  return value
}

const bytesOf = (file: File): Effect.Effect<Buffer> => Effect.promise(async () => Buffer.from(await file.arrayBuffer()))

/** Content-Length announced, equal to the bytes received, and no chunked encoding. */
const expectExactLength = (req: Recorded): void => {
  expect(req.headers["transfer-encoding"]).toBeUndefined()
  expect(req.headers["content-length"]).toBe(String(req.body.length))
}

const packageVersion = (): string => {
  const pkg: unknown = JSON.parse(readFileSync(join(repoRoot, "package.json"), "utf8"))
  const version: unknown = typeof pkg === "object" && pkg !== null ? Reflect.get(pkg, "version") : undefined
  if (typeof version !== "string") throw new Error("package.json has no version")
  return version
}

describe("multipart uploads carry Content-Length", () => {
  it.scopedLive("createVideo: exact Content-Length, no chunking; the parts parse with undici's parser", () =>
    Effect.gen(function* () {
      const server = yield* recorder(okVideo)
      yield* withClient(
        server.baseUrl,
        Effect.flatMap(MirageClient, (c) => c.createVideo({ image: alicePng, audio: helloWav, model: "mirage-video-1-latest" }))
      )
      const req = server.requests[0]!
      expectExactLength(req)
      expect(req.headers["content-type"]).toMatch(/^multipart\/form-data; boundary=[-0-9A-Za-z]+$/)
      const form = yield* formDataOf(req)
      expect([...form.keys()]).toEqual(["image_reference", "audio_reference", "model"])
      const image = fileOf(form, "image_reference")
      expect([image.name, image.type]).toEqual(["alice.png", "image/png"])
      expect((yield* bytesOf(image)).equals(readFileSync(alicePng))).toBe(true)
      const audio = fileOf(form, "audio_reference")
      expect([audio.name, audio.type]).toEqual(["hello.wav", "audio/wav"])
      expect((yield* bytesOf(audio)).equals(readFileSync(helloWav))).toBe(true)
      expect(form.get("model")).toBe("mirage-video-1-latest")
    })
  )

  it.scopedLive("addCaptions (upload) and createTextOverlay: exact Content-Length; UTF-8 names and texts counted in bytes", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      const mp4 = writeMp4(join(dir, "clip «été».mp4"))
      const server = yield* recorder((r) =>
        r.url === "/v1/meta/text_overlays"
          ? {
              status: 200,
              headers: { "content-type": "application/json" },
              body: JSON.stringify({ id: "ov_1", status: "QUEUED", created_at: 1 })
            }
          : okVideo()
      )
      const texts = ["Soldes d’été — 50 %", "日本語のテキスト", 'a "quoted"\r\nline']
      yield* withClient(
        server.baseUrl,
        Effect.gen(function* () {
          const c = yield* MirageClient
          yield* c.addCaptions({ templateId: "ctpl_1", videoPath: mp4 })
          yield* c.createTextOverlay({ videoPath: mp4, items: texts.map((text) => ({ text, color: "#FFFFFF" })) })
        })
      )
      const [captions, overlay] = server.requests
      for (const req of [captions!, overlay!]) expectExactLength(req)

      const captionParts = parseMultipart(captions!.headers["content-type"], captions!.body)
      expect(captionParts.map((p) => [p.name, p.filename, p.contentType])).toEqual([
        ["caption_template_id", undefined, undefined],
        ["video", "clip «été».mp4", "video/mp4"]
      ])
      expect(captionParts[1]!.data.equals(readFileSync(mp4))).toBe(true)

      const form = yield* formDataOf(overlay!)
      expect(fileOf(form, "video").name).toBe("clip «été».mp4")
      expect((yield* bytesOf(fileOf(form, "video"))).equals(readFileSync(mp4))).toBe(true)
      // undici normalises line breaks in text values as browsers do; our bytes are kept as given.
      expect(form.getAll("texts")).toEqual([texts[0], texts[1], 'a "quoted"\r\nline'])
      const raw = parseMultipart(overlay!.headers["content-type"], overlay!.body).filter((p) => p.name === "texts")
      expect(raw.map((p) => p.data.toString("utf8"))).toEqual(texts)
    })
  )

  it.effect("buildForm lays the body out as RFC 7578 says, byte for byte", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const dir = yield* tempDir
        const mp4 = writeMp4(join(dir, "clip.mp4"))
        const body = yield* buildForm(
          "test",
          [textPart("caption_template_id", "ctpl_1"), filePart("video", mp4), textPart("model", "m")],
          "BOUNDARY"
        )
        const bytes = Buffer.concat(Array.from(yield* Stream.runCollect(body.stream)))
        const expected = Buffer.concat([
          Buffer.from(
            '--BOUNDARY\r\nContent-Disposition: form-data; name="caption_template_id"\r\n\r\nctpl_1\r\n' +
              '--BOUNDARY\r\nContent-Disposition: form-data; name="video"; filename="clip.mp4"\r\nContent-Type: video/mp4\r\n\r\n'
          ),
          readFileSync(mp4),
          Buffer.from('\r\n--BOUNDARY\r\nContent-Disposition: form-data; name="model"\r\n\r\nm\r\n--BOUNDARY--\r\n')
        ])
        expect(bytes.toString("latin1")).toBe(expected.toString("latin1"))
        expect(body).toMatchObject({ contentType: "multipart/form-data; boundary=BOUNDARY", contentLength: expected.length, files: 1 })
      })
    )
  )

  it.effect("buildForm: the announced length is the length of the stream, for every mix of parts", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const dir = yield* tempDir
        const empty = join(dir, "empty.wav")
        writeFileSync(empty, "")
        const quoteName = join(dir, 'a"b.png')
        copyFileSync(alicePng, quoteName)
        const mixes = [
          [textPart("only", "text")],
          [filePart("f", alicePng)],
          [filePart("a", bobJpg), filePart("b", welcomeMp3), textPart("c", "ü")],
          [textPart("x", ""), filePart("e", empty), textPart("y", "\r\n")],
          [filePart('q"uote', quoteName)]
        ]
        for (const parts of mixes) {
          const body = yield* buildForm("test", parts)
          const bytes = Buffer.concat(Array.from(yield* Stream.runCollect(body.stream)))
          expect(bytes.length).toBe(body.contentLength)
          expect(body.files).toBe(parts.filter((p) => p._tag === "File").length)
          const parsed = parseMultipart(body.contentType, bytes)
          expect(parsed.map((p) => p.name)).toEqual(parts.map((p) => p.name.replace(/"/g, "%22")))
          // Re-runnable: a second run reads the files again, byte for byte.
          const again = Buffer.concat(Array.from(yield* Stream.runCollect(body.stream)))
          expect(again.equals(bytes)).toBe(true)
        }
        const quoted = yield* buildForm("test", [filePart("f", quoteName)])
        const head = Buffer.concat(Array.from(yield* Stream.runCollect(Stream.take(quoted.stream, 1)))).toString()
        expect(head).toContain(`filename="a%22b.png"`)
      })
    )
  )
})

describe("a file that changes between measuring and sending", () => {
  it.effect("a large file shorter or longer when the part is reached → LocalFileError, not a body of another length", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const dir = yield* tempDir
        // Above the size whose bytes are kept when measured: read from disk when sent.
        const size = 2 * 1024 * 1024
        const path = sparseFile(join(dir, "image.png"), size)

        const shrunk = yield* buildForm("createVideo", [filePart("image_reference", path)])
        truncateSync(path, 10)
        const e1 = yield* Effect.flip(Stream.runDrain(shrunk.stream))
        expect(e1).toMatchObject({ _tag: "LocalFileError", operation: "createVideo", path })
        expect(e1.reason).toContain(`${size} bytes when measured, 10 bytes now`)

        sparseFile(path, size)
        const grown = yield* buildForm("createVideo", [filePart("image_reference", path)])
        appendFileSync(path, "more")
        const e2 = yield* Effect.flip(Stream.runDrain(grown.stream))
        expect(e2).toMatchObject({ _tag: "LocalFileError", path })
        expect(e2.reason).toContain("changed while it was being uploaded")
      })
    )
  )

  it.effect("a small file is sent as it was measured: the body's length and bytes are what was announced", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const dir = yield* tempDir
        const path = join(dir, "image.png")
        copyFileSync(alicePng, path)
        const original = readFileSync(path)
        const form = yield* buildForm("createVideo", [filePart("image_reference", path)])
        truncateSync(path, 10)
        const body = Buffer.concat(Chunk.toReadonlyArray(yield* Stream.runCollect(form.stream)))
        expect(body.byteLength).toBe(form.contentLength)
        expect(body.includes(original)).toBe(true)
        // Measured again, the file is what it is now.
        const again = yield* buildForm("createVideo", [filePart("image_reference", path)])
        expect(again.contentLength).toBe(form.contentLength - original.byteLength + 10)
      })
    )
  )

  const midUpload = (change: (path: string, size: number) => void) =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      const size = 64 * 1024 * 1024
      const image = sparseFile(join(dir, "big.png"), size)
      const seen: Array<{ announced: number; received: number; complete: boolean }> = []
      // Takes the first bytes, stops reading (the client backs up), changes the file, reads on.
      const url = yield* rawServer((req: Http.IncomingMessage, res: Http.ServerResponse) => {
        let received = 0
        let changed = false
        const entry = { announced: Number(req.headers["content-length"]), received: 0, complete: false }
        seen.push(entry)
        req.on("data", (chunk: Buffer) => {
          received += chunk.length
          entry.received = received
          if (!changed) {
            changed = true
            req.pause()
            setTimeout(() => {
              change(image, size)
              req.resume()
            }, 100)
          }
        })
        req.on("end", () => {
          entry.complete = true
          res.writeHead(200, { "content-type": "application/json" })
          res.end(videoJson("video_x"))
        })
      })
      const e = yield* withClient(url, Effect.flip(Effect.flatMap(MirageClient, (c) => c.createVideo({ image, audio: helloWav }))))
      expect(e).toMatchObject({ _tag: "LocalFileError", operation: "createVideo", path: image })
      expectNoKey(e)
      // The server never got a whole body: fewer bytes than announced, and no end.
      yield* Effect.sleep("50 millis")
      expect(seen).toHaveLength(1)
      expect(seen[0]!.complete).toBe(false)
      expect(seen[0]!.received).toBeLessThan(seen[0]!.announced)
      return e._tag === "LocalFileError" ? e.reason : `not a LocalFileError: ${e._tag}`
    })

  it.scopedLive(
    "truncated mid-upload → LocalFileError; the server never sees a complete body",
    () =>
      Effect.gen(function* () {
        const reason = yield* midUpload((path) => truncateSync(path, 1024 * 1024))
        expect(reason).toMatch(/it ended after \d+ bytes/)
      }),
    20_000
  )

  it.scopedLive(
    "grown mid-upload → LocalFileError; the server never sees a complete body",
    () =>
      Effect.gen(function* () {
        const reason = yield* midUpload((path, size) => truncateSync(path, size + 10))
        expect(reason).toContain("longer now")
      }),
    20_000
  )
})

describe("User-Agent", () => {
  it("is clapper/<the version in package.json>", () => {
    expect(userAgent).toBe(`clapper/${packageVersion()}`)
  })

  it.scopedLive("on every request: API calls, uploads, speech, and each hop of a download", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      const files = yield* recorder(() => ({ status: 200, body: "video-bytes" }))
      const api = yield* recorder((r) => {
        if (r.url.endsWith("/content")) return { status: 302, headers: { location: `${files.baseUrl}/file.mp4` } }
        if (r.url.startsWith("/v1/audio/")) return { status: 200, headers: { "content-type": "audio/wav" }, body: readFileSync(helloWav) }
        return okVideo()
      })
      yield* withClient(
        api.baseUrl,
        Effect.gen(function* () {
          const c = yield* MirageClient
          yield* c.getVideo("video_1")
          yield* c.createVideo({ image: alicePng, audio: helloWav })
          yield* c.textToSpeech({ voiceId: "v", text: "hi", path: join(dir, "s.wav") })
          yield* c.downloadContent("video_1", { path: join(dir, "d.mp4") })
        })
      )
      const all = [...api.requests, ...files.requests]
      expect(all).toHaveLength(5)
      for (const r of all) expect(r.headers["user-agent"]).toBe(`clapper/${packageVersion()}`)
    })
  )
})

describe("against the simulator (which answers 411 to bodies without Content-Length)", () => {
  it.scopedLive("createVideo, addCaptions by upload and createTextOverlay are accepted", () =>
    Effect.gen(function* () {
      const sim = yield* Effect.orDie(
        Simulator.make({
          renderFactor: 0,
          ffmpeg: false,
          apiKey: secretKey,
          quotas: uniformQuotas(perMinute(1_000_000)),
          queuedMs: 0,
          requireContentLength: true
        })
      )
      const dir = yield* tempDir
      yield* withClient(
        sim.baseUrl,
        Effect.gen(function* () {
          const c = yield* MirageClient
          const video = yield* c.createVideo({ image: bobJpg, audio: welcomeMp3 })
          const mp4 = join(dir, "source.mp4")
          yield* c.downloadContent(video.id, { path: mp4 })
          const template = yield* Effect.flatMap(c.listCaptionTemplatesPage({ limit: 1 }), (page) => Effect.succeed(page.data[0]!))
          const captioned = yield* c.addCaptions({ templateId: template.id, videoPath: mp4 })
          expect(captioned.caption_template_id).toBe(template.id)
          const overlay = yield* c.createTextOverlay({ videoPath: mp4, items: [{ text: "Été" }] })
          expect(overlay.id).toBeTruthy()
        })
      )
      const stats = yield* sim.stats
      expect(stats.requests["POST /v1/videos"]).toBe(1)
      expect(stats.requests["POST /v1/videos/captions"]).toBe(1)
      expect(stats.requests["POST /v1/meta/text_overlays"]).toBe(1)
    })
  )
})
