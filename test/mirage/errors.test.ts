/**
 * Every typed error of the client, from real loopback servers answering each status or breaking
 * each way; and none of them (nor `MissingApiKey`) ever shows the key.
 */
import { describe, expect, it } from "@effect/vitest"
import { ConfigProvider, Duration, Effect, Layer, Redacted, Schema } from "effect"
import { writeFileSync } from "node:fs"
import { join } from "node:path"
import { loadMirageConfig } from "../../src/mirage/mirageConfig.ts"
import { MirageClient, layerConfig } from "../../src/mirage/MirageClient.ts"
import { failedVideoError, MirageError, MissingApiKey, RequestRefused, VideoFailed } from "../../src/mirage/MirageError.ts"
import type { Video } from "../../src/mirage/schemas.ts"
import { describeCause, mayHaveReachedServer } from "../../src/mirage/transport.ts"
import { failureKind } from "../../src/runtime/failureKind.ts"
import { expectNoKey } from "./keyLeak.ts"
import { alicePng, closedPort, helloWav, rawServer, recorder, type Reply, secretKey, tempDir, withClient } from "./support.ts"

const reply = (status: number, body: string, headers: Record<string, string> = {}): Reply => ({
  status,
  headers: { "content-type": "application/json", ...headers },
  body
})

/** The failure of `getVideo("v1")` against a server answering `r`. */
const getVideoFailure = (r: Reply) =>
  Effect.gen(function* () {
    const server = yield* recorder(() => r)
    const e = yield* withClient(server.baseUrl, Effect.flip(Effect.flatMap(MirageClient, (c) => c.getVideo("v1"))))
    expectNoKey(e)
    return e
  })

describe("typed errors", () => {
  it.scopedLive("401/403 → Unauthorized, 404 → NotFound, 5xx → ServerError, others → UnexpectedResponse", () =>
    Effect.gen(function* () {
      expect(yield* getVideoFailure(reply(401, `{"detail":"Invalid API key"}`))).toMatchObject({
        _tag: "Unauthorized",
        status: 401,
        operation: "getVideo"
      })
      expect(yield* getVideoFailure(reply(403, `{"detail":"Forbidden"}`))).toMatchObject({ _tag: "Unauthorized", status: 403 })
      expect(yield* getVideoFailure(reply(404, `{"detail":"Not Found"}`))).toMatchObject({ _tag: "NotFound", path: "/v1/videos/v1" })
      for (const status of [500, 502, 503]) {
        expect(yield* getVideoFailure(reply(status, `{"detail":"x"}`))).toMatchObject({ _tag: "ServerError", status })
      }
      const conflict = yield* getVideoFailure(reply(409, `{"detail":"Video content is not ready"}`))
      expect(conflict).toMatchObject({ _tag: "UnexpectedResponse", status: 409, bodyPrefix: `{"detail":"Video content is not ready"}` })
      expect(conflict.message).toContain("409")
    })
  )

  it.scopedLive("422 → ValidationFailed with each {loc, msg, type}; the key is scrubbed from echoed input", () =>
    Effect.gen(function* () {
      const body = JSON.stringify({
        detail: [
          { loc: ["body", "image_reference"], msg: "File is not a PNG or JPEG image", type: "value_error" },
          { loc: ["header", "x-api-key"], msg: `bad key ${secretKey}`, type: "value_error", input: secretKey }
        ]
      })
      const e = yield* getVideoFailure(reply(422, body))
      expect(e).toMatchObject({
        _tag: "ValidationFailed",
        issues: [
          { loc: ["body", "image_reference"], msg: "File is not a PNG or JPEG image", type: "value_error" },
          { loc: ["header", "x-api-key"], msg: "bad key <redacted>", type: "value_error" }
        ]
      })
      expect(e.message).toContain("body.image_reference: File is not a PNG or JPEG image")
      expect(yield* getVideoFailure(reply(422, `{"detail":"Unprocessable"}`))).toMatchObject({
        _tag: "ValidationFailed",
        issues: [{ loc: [], msg: "Unprocessable", type: "detail" }]
      })
    })
  )

  it.scopedLive("429 → RateLimited with retryAfter from seconds or an HTTP date", () =>
    Effect.gen(function* () {
      expect(yield* getVideoFailure(reply(429, "{}", { "retry-after": "3" }))).toMatchObject({
        _tag: "RateLimited",
        retryAfter: Duration.seconds(3)
      })
      const inTenSeconds = new Date(Date.now() + 10_500).toUTCString()
      const dated = yield* getVideoFailure(reply(429, "{}", { "retry-after": inTenSeconds }))
      expect(dated._tag).toBe("RateLimited")
      if (dated._tag === "RateLimited") {
        const ms = Duration.toMillis(dated.retryAfter ?? Duration.zero)
        expect(ms).toBeGreaterThan(8_000)
        expect(ms).toBeLessThanOrEqual(10_500)
      }
      expect(yield* getVideoFailure(reply(429, "{}"))).toMatchObject({ _tag: "RateLimited", retryAfter: undefined })
    })
  )

  it.scopedLive("411, 413, 415 → RequestRefused: what was refused and why, never retried", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      const mp4 = join(dir, "clip.mp4")
      writeFileSync(mp4, Buffer.concat([Buffer.from([0, 0, 0, 0x18]), Buffer.from("ftypisom"), Buffer.alloc(64)]))
      const failure = <A, E>(r: Reply, call: (c: typeof MirageClient.Service) => Effect.Effect<A, E>) =>
        Effect.gen(function* () {
          const server = yield* recorder(() => r)
          const e = yield* withClient(server.baseUrl, Effect.flip(Effect.flatMap(MirageClient, call)))
          expectNoKey(e)
          return e
        })
      const html = (status: number, text: string): Reply => ({
        status,
        headers: { "content-type": "text/html" },
        body: `<html><h1>${status} ${text}</h1></html>`
      })
      const createVideo = (c: typeof MirageClient.Service) => c.createVideo({ image: alicePng, audio: helloWav })

      const lengthRequired = yield* failure(html(411, "Length Required"), createVideo)
      expect(lengthRequired).toBeInstanceOf(RequestRefused)
      expect(lengthRequired).toMatchObject({ _tag: "RequestRefused", operation: "createVideo", status: 411, refused: "the upload" })
      expect(lengthRequired.message).toBe(
        "createVideo: the server refused the upload (HTTP 411 Length Required): it requires a Content-Length header"
      )
      const tooLarge = yield* failure(html(413, "Request Entity Too Large"), (c) => c.addCaptions({ templateId: "t", videoPath: mp4 }))
      expect(tooLarge.message).toBe(
        "addCaptions: the server refused the upload (HTTP 413 Content Too Large): the file is larger than the server accepts"
      )
      const bothTooLarge = yield* failure(html(413, "Too Large"), createVideo)
      expect(bothTooLarge.message).toContain("(HTTP 413 Content Too Large): the files together are larger than the server accepts")
      const mediaType = yield* failure(reply(415, JSON.stringify({ detail: `Unsupported media type for key ${secretKey}` })), (c) =>
        c.createTextOverlay({ videoPath: mp4, items: [{ text: "hi" }] })
      )
      expect(mediaType).toMatchObject({ status: 415, serverMessage: "Unsupported media type for key <redacted>" })
      expect(mediaType.message).toBe(
        "createTextOverlay: the server refused the upload (HTTP 415 Unsupported Media Type): it does not accept the media type of what was sent (the server said: Unsupported media type for key <redacted>)"
      )
      // A call without files: "the request"; the provider's envelope is read too.
      const plain = yield* failure(reply(413, JSON.stringify({ error: { type: "too_large", message: "Payload too large" } })), (c) =>
        c.getVideo("v1")
      )
      expect(plain.message).toBe(
        "getVideo: the server refused the request (HTTP 413 Content Too Large): the request is larger than the server accepts (the server said: Payload too large)"
      )
      const byId = yield* failure(html(411, "Length Required"), (c) => c.addCaptions({ templateId: "t", videoId: "v" }))
      expect(byId).toMatchObject({ refused: "the request", status: 411 })

      for (const e of [lengthRequired, tooLarge, bothTooLarge, mediaType, plain, byId]) {
        expect(e._tag).toBe("RequestRefused")
        if (e._tag === "RequestRefused") {
          // The runtime treats it as fatal (not retried), and it is one of the MirageError schema's members.
          expect(failureKind(e, "submit")._tag).toBe("Fatal")
          expect(Schema.is(MirageError)(e)).toBe(true)
          const back = Schema.decodeUnknownSync(MirageError)(Schema.encodeSync(MirageError)(e))
          expect(back).toBeInstanceOf(RequestRefused)
          expect(back.message).toBe(e.message)
        }
      }
    })
  )

  it.scopedLive("a 2xx body that does not decode → UnexpectedResponse with the first 200 bytes", () =>
    Effect.gen(function* () {
      const html = `<html>${"x".repeat(500)}${secretKey}</html>`
      const e = yield* getVideoFailure({ status: 200, headers: { "content-type": "text/html" }, body: html })
      expect(e).toMatchObject({ _tag: "UnexpectedResponse", status: 200, bodyPrefix: html.slice(0, 200) })
      const shape = yield* getVideoFailure(reply(200, JSON.stringify({ id: 1, status: "COMPLETE", note: secretKey })))
      expect(shape).toMatchObject({ _tag: "UnexpectedResponse", status: 200 })
      if (shape._tag === "UnexpectedResponse") expect(shape.problem).toContain("does not decode")
    })
  )

  it.scopedLive("connection refused → TransportError with bodySent false, even for createVideo", () =>
    Effect.gen(function* () {
      const port = yield* closedPort
      const e = yield* withClient(
        `http://127.0.0.1:${port}`,
        Effect.flip(Effect.flatMap(MirageClient, (c) => c.createVideo({ image: alicePng, audio: helloWav })))
      )
      expect(e).toMatchObject({ _tag: "TransportError", bodySent: false, operation: "createVideo" })
      expect(e.message).toContain("ECONNREFUSED")
      expectNoKey(e)
    })
  )

  it("bodySent is false only for failures before any connection (refused, DNS, unreachable)", () => {
    const err = (code: string) => Object.assign(new Error(code), { code })
    expect(mayHaveReachedServer(err("ECONNREFUSED"))).toBe(false)
    expect(mayHaveReachedServer(err("ENOTFOUND"))).toBe(false)
    expect(mayHaveReachedServer(err("EAI_AGAIN"))).toBe(false)
    expect(mayHaveReachedServer(new AggregateError([err("ECONNREFUSED"), err("EHOSTUNREACH")]))).toBe(false)
    expect(mayHaveReachedServer(err("ECONNRESET"))).toBe(true)
    expect(mayHaveReachedServer(err("EPIPE"))).toBe(true)
    expect(mayHaveReachedServer(new Error("socket hang up"))).toBe(true)
    expect(mayHaveReachedServer(new AggregateError([err("ECONNREFUSED"), err("ECONNRESET")]))).toBe(true)
    expect(describeCause(Object.assign(new Error("x"), { cause: err("ENOTFOUND") }))).toBe("host not found (ENOTFOUND)")
  })

  it.scopedLive("no answer within requestTimeout → TransportError (bodySent true: outcome unknown)", () =>
    Effect.gen(function* () {
      const url = yield* rawServer(() => {
        // never answers
      })
      const e = yield* withClient(
        url,
        Effect.flip(Effect.flatMap(MirageClient, (c) => c.createVideo({ image: alicePng, audio: helloWav }))),
        { requestTimeout: "300 millis" }
      )
      expect(e).toMatchObject({ _tag: "TransportError", bodySent: true, operation: "createVideo" })
      expect(e.message).toContain("timed out")
      expectNoKey(e)
    })
  )

  it.scopedLive("a socket destroyed after the upload → TransportError with bodySent true", () =>
    Effect.gen(function* () {
      const url = yield* rawServer((req) => {
        req.resume()
        req.on("end", () => req.socket.destroy())
      })
      const e = yield* withClient(
        url,
        Effect.flip(Effect.flatMap(MirageClient, (c) => c.createVideo({ image: alicePng, audio: helloWav })))
      )
      expect(e).toMatchObject({ _tag: "TransportError", bodySent: true })
      expectNoKey(e)
    })
  )

  it.scopedLive("downloads: a stalled body → IncompleteDownload after the idle timeout; the total is not a deadline", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      const url = yield* rawServer((req, res) => {
        res.writeHead(200, { "content-length": "1000" })
        if (req.url === "/slow") {
          // 10 chunks, 60 ms apart: 600 ms in all, longer than the 300 ms idle timeout
          let sent = 0
          const tick = setInterval(() => {
            res.write(Buffer.alloc(100, 1))
            if (++sent === 10) {
              clearInterval(tick)
              res.end()
            }
          }, 60)
        } else {
          res.write(Buffer.alloc(400, 1)) // then stall
        }
      })
      const out = join(dir, "d.mp4")
      const e = yield* withClient(
        url,
        Effect.flip(Effect.flatMap(MirageClient, (c) => c.downloadUrl(`${url}/stall`, { path: out, idleTimeout: "300 millis" })))
      )
      expect(e).toMatchObject({ _tag: "IncompleteDownload", bytesOnDisk: 400, totalBytes: 1000, path: out })
      expectNoKey(e)
      const ok = yield* withClient(
        url,
        Effect.flatMap(MirageClient, (c) => c.downloadUrl(`${url}/slow`, { path: out })),
        { requestTimeout: "300 millis" }
      )
      expect(ok.bytesWritten).toBe(1000)
    })
  )

  it.scopedLive("a missing or unreadable upload → LocalFileError before anything is sent", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      const server = yield* recorder(() => reply(200, "{}"))
      const e = yield* withClient(
        server.baseUrl,
        Effect.flip(Effect.flatMap(MirageClient, (c) => c.createVideo({ image: join(dir, "nope.png"), audio: helloWav })))
      )
      expect(e).toMatchObject({ _tag: "LocalFileError", reason: "no such file", operation: "createVideo" })
      const dirAsFile = yield* withClient(
        server.baseUrl,
        Effect.flip(Effect.flatMap(MirageClient, (c) => c.createVideo({ image: dir, audio: helloWav })))
      )
      expect(dirAsFile).toMatchObject({ _tag: "LocalFileError", reason: "not a regular file" })
      expect(server.requests).toHaveLength(0)
    })
  )

  it.scopedLive("writing a download where it cannot → LocalFileError", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      const server = yield* recorder(() => ({ status: 200, body: "data" }))
      const e = yield* withClient(
        server.baseUrl,
        Effect.flip(Effect.flatMap(MirageClient, (c) => c.downloadUrl(`${server.baseUrl}/f`, { path: join(dir, "no", "such", "dir.mp4") })))
      )
      expect(e).toMatchObject({ _tag: "LocalFileError", reason: "no such file" })
    })
  )
})

describe("configuration and the key", () => {
  const withEnv = (env: Record<string, string>) => Layer.setConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env))))

  it.effect("MissingApiKey names the variable when it is unset or blank", () =>
    Effect.gen(function* () {
      const unset = yield* Effect.flip(loadMirageConfig({ apiKeyEnv: "ACME_MIRAGE_KEY" })).pipe(Effect.provide(withEnv({})))
      expect(unset).toBeInstanceOf(MissingApiKey)
      expect(unset).toMatchObject({ variable: "ACME_MIRAGE_KEY" })
      expect(unset.message).toContain("ACME_MIRAGE_KEY")
      const blank = yield* Effect.flip(loadMirageConfig()).pipe(Effect.provide(withEnv({ MIRAGE_API_KEY: "  " })))
      expect(blank).toMatchObject({ _tag: "MissingApiKey", variable: "MIRAGE_API_KEY" })
      const layerFailure = yield* Effect.flip(
        Effect.provide(MirageClient, layerConfig({ apiKeyEnv: "OTHER_KEY" }).pipe(Layer.provide(withEnv({ MIRAGE_API_KEY: secretKey }))))
      )
      expect(layerFailure).toMatchObject({ _tag: "MissingApiKey", variable: "OTHER_KEY" })
      for (const e of [unset, blank, layerFailure]) expectNoKey(e)
    })
  )

  it.effect("the key is read Redacted from the named variable; the base URL from the option, MIRAGE_BASE_URL or the default", () =>
    Effect.gen(function* () {
      const config = yield* loadMirageConfig({ apiKeyEnv: "K" }).pipe(
        Effect.provide(withEnv({ K: secretKey, MIRAGE_BASE_URL: "http://127.0.0.1:9" }))
      )
      expect(Redacted.value(config.apiKey)).toBe(secretKey)
      expect(config.baseUrl).toBe("http://127.0.0.1:9")
      expect(Duration.toSeconds(config.requestTimeout)).toBe(60)
      expectNoKey(config)
      const explicit = yield* loadMirageConfig({ apiKeyEnv: "K", baseUrl: "http://x" }).pipe(
        Effect.provide(withEnv({ K: "k", MIRAGE_BASE_URL: "http://y" }))
      )
      expect(explicit.baseUrl).toBe("http://x")
      const byDefault = yield* loadMirageConfig({ apiKeyEnv: "K" }).pipe(Effect.provide(withEnv({ K: "k" })))
      expect(byDefault.baseUrl).toBe("https://api.mirage.app")
    })
  )

  it.scopedLive("layerConfig builds a working client", () =>
    Effect.gen(function* () {
      const server = yield* recorder(() => reply(200, JSON.stringify({ id: "v1", status: "COMPLETE", created_at: 1 })))
      const v = yield* Effect.flatMap(MirageClient, (c) => c.getVideo("v1")).pipe(
        Effect.provide(
          layerConfig({ apiKeyEnv: "ACME_KEY", baseUrl: server.baseUrl }).pipe(Layer.provide(withEnv({ ACME_KEY: secretKey })))
        )
      )
      expect(v.status).toBe("COMPLETE")
      expect(server.requests[0]!.headers["x-api-key"]).toBe(secretKey)
    })
  )

  it("failedVideoError turns a FAILED video into VideoFailed", () => {
    const failed: Video = {
      id: "video_9",
      status: "FAILED",
      created_at: 1,
      completed_at: 2,
      progress: null,
      error: { code: "rate_limit_exceeded", message: "Rate limit exceeded. Please try again later." },
      model: "mirage-video-1-latest",
      source_video_id: null,
      caption_template_id: null,
      share_link_url: null
    }
    const e = failedVideoError(failed)
    expect(e).toBeInstanceOf(VideoFailed)
    expect(e).toMatchObject({
      videoId: "video_9",
      code: "rate_limit_exceeded",
      message: "Rate limit exceeded. Please try again later.",
      operation: "getVideo"
    })
    expect(failedVideoError({ ...failed, error: null }).code).toBe("unknown")
    expectNoKey(e)
  })
})
