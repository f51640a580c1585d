/**
 * The client against the simulator over loopback HTTP: every operation end to end, and every
 * error type from faults injected through the simulator's options.
 */
import { describe, expect, it } from "@effect/vitest"
import { Chunk, Effect, Schedule, Stream } from "effect"
import { createHash } from "node:crypto"
import { readFileSync, statSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { MirageClient } from "../../src/mirage/MirageClient.ts"
import { failedVideoError, type IncompleteDownload } from "../../src/mirage/MirageError.ts"
import { uniformQuotas } from "../../src/mirage/quotas.ts"
import { isKnownVideoStatus } from "../../src/mirage/schemas.ts"
import * as Simulator from "../../src/sim/Simulator.ts"
import { expectNoKey } from "./keyLeak.ts"
import { alicePng, bobJpg, helloWav, secretKey, tempDir, welcomeMp3, withClient } from "./support.ts"

/** A fast simulator (renders at once, placeholder files) that accepts only `secretKey`. */
const startSim = (options: Partial<Simulator.SimulatorOptions> = {}) =>
  Effect.orDie(Simulator.make({ renderFactor: 0, ffmpeg: false, apiKey: secretKey, ...options }))

/** Quotas these tests cannot reach (the default is the provider's 2 generations a minute). */
const roomyQuotas = uniformQuotas({ count: 100_000, perMs: 60_000 })

const sha256 = (path: string) => createHash("sha256").update(readFileSync(path)).digest("hex")

describe("against the simulator", () => {
  it.scopedLive("videos: create, get, list (pages and stream), download through the file host", () =>
    Effect.gen(function* () {
      const sim = yield* startSim({ quotas: roomyQuotas })
      const dir = yield* tempDir
      yield* withClient(
        sim.baseUrl,
        Effect.gen(function* () {
          const c = yield* MirageClient
          const first = yield* c.createVideo({ image: alicePng, audio: helloWav, model: "mirage-video-1-latest" })
          expect(isKnownVideoStatus(first.status)).toBe(true)
          expect(first.model).toBe("mirage-video-1-latest")
          const second = yield* c.createVideo({ image: bobJpg, audio: welcomeMp3 })
          const third = yield* c.createVideo({ image: alicePng, audio: welcomeMp3 })

          const got = yield* c.getVideo(first.id)
          expect(got).toMatchObject({ id: first.id, status: "COMPLETE", progress: 100 })

          const newestFirst = yield* c.listVideosPage({ limit: 2 })
          expect(newestFirst.map((v) => v.id)).toEqual([third.id, second.id])
          const all = yield* Stream.runCollect(c.listVideos({ limit: 2, order: "asc" }))
          expect(Chunk.toReadonlyArray(all).map((v) => v.id)).toEqual([first.id, second.id, third.id])

          const out = join(dir, "first.mp4")
          const result = yield* c.downloadContent(first.id, { path: out })
          expect(result.resumed).toBe(false)
          expect(result.bytesWritten).toBeGreaterThan(0)
          expect(result.totalBytes).toBe(result.bytesWritten)
          expect(statSync(out).size).toBe(result.bytesWritten)
          expect(readFileSync(out).subarray(4, 8).toString()).toBe("ftyp")
        })
      )
      const stats = yield* sim.stats
      expect(stats.requests["POST /v1/videos"]).toBe(3)
      expect(stats.requests["GET /v1/videos/{video_id}/content"]).toBe(1)
      // The file host refuses any request carrying the key (400): one clean GET proves it was not sent.
      expect(stats.requests["GET /files/{file}"]).toBe(1)
      expect(Object.values(stats.submissions)).toEqual([1, 1, 1])
    })
  )

  it.scopedLive("captions: templates (stream and by id), by video_id and by upload", () =>
    Effect.gen(function* () {
      const sim = yield* startSim()
      const dir = yield* tempDir
      yield* withClient(
        sim.baseUrl,
        Effect.gen(function* () {
          const c = yield* MirageClient
          const templates = Chunk.toReadonlyArray(yield* Stream.runCollect(c.listCaptionTemplates({ limit: 2 })))
          expect(templates.length).toBeGreaterThan(2)
          expect(new Set(templates.map((t) => t.id)).size).toBe(templates.length)
          const page = yield* c.listCaptionTemplatesPage({ limit: 2 })
          expect(page.data).toHaveLength(2)
          expect(page.has_more).toBe(true)
          const template = yield* c.getCaptionTemplate(templates[0]!.id)
          expect(template).toEqual(templates[0])

          const source = yield* c.createVideo({ image: alicePng, audio: helloWav })
          const byId = yield* c.addCaptions({ templateId: template.id, videoId: source.id })
          expect(byId).toMatchObject({ caption_template_id: template.id, source_video_id: source.id })

          const mp4 = join(dir, "source.mp4")
          yield* c.downloadContent(source.id, { path: mp4 })
          const byUpload = yield* c.addCaptions({ templateId: template.id, videoPath: mp4 })
          expect(byUpload).toMatchObject({ caption_template_id: template.id, source_video_id: null })
          const done = yield* c.getVideo(byUpload.id)
          expect(done.status).toBe("COMPLETE")
          const captioned = join(dir, "captioned.mp4")
          yield* c.downloadContent(byUpload.id, { path: captioned })
          expect(statSync(captioned).size).toBeGreaterThan(0)
        })
      )
    })
  )

  it.scopedLive("speech and text overlays: the WAV streams to a file; overlay results download by video_url", () =>
    Effect.gen(function* () {
      const sim = yield* startSim()
      const dir = yield* tempDir
      yield* withClient(
        sim.baseUrl,
        Effect.gen(function* () {
          const c = yield* MirageClient
          const wav = join(dir, "speech.wav")
          const bytes = yield* c.textToSpeech({ voiceId: "voice_en_1", text: "Hello, welcome to Mirage!", path: wav })
          expect(bytes).toBe(statSync(wav).size)
          expect(readFileSync(wav).subarray(0, 4).toString()).toBe("RIFF")

          const source = yield* c.createVideo({ image: alicePng, audio: helloWav })
          const mp4 = join(dir, "source.mp4")
          yield* c.downloadContent(source.id, { path: mp4 })
          const created = yield* c.createTextOverlay({
            videoPath: mp4,
            items: [
              { text: "Spring sale", font: "Inter", size: 64, color: "#FFFFFF" },
              { text: "Ends Friday", font: "Inter", size: 48, color: "#FFCC00" }
            ]
          })
          expect(created.results.length === 0 || created.results.length === 2).toBe(true)
          const mixed = yield* c.createTextOverlay({ videoPath: mp4, items: [{ text: "A", color: "#FF0000" }, { text: "B" }] })
          expect(mixed.id).not.toBe(created.id)

          // Overlays render asynchronously: poll (briefly) until terminal.
          const overlay = yield* c.getTextOverlay(created.id).pipe(
            Effect.filterOrFail((o) => o.status === "COMPLETE" || o.status === "FAILED"),
            Effect.retry({ schedule: Schedule.spaced("20 millis"), times: 100 })
          )
          expect(overlay.status).toBe("COMPLETE")
          expect(overlay.results.map((r) => r.text)).toEqual(["Spring sale", "Ends Friday"])
          const url = overlay.results[0]!.video_url
          expect(url).not.toBeNull()
          const out = join(dir, "overlay-0.mp4")
          const downloaded = yield* c.downloadUrl(url!, { path: out })
          expect(downloaded.bytesWritten).toBeGreaterThan(0)
        })
      )
    })
  )
})

describe("faults injected through the simulator", () => {
  it.scopedLive("throttleRps → RateLimited with retryAfter", () =>
    Effect.gen(function* () {
      const sim = yield* startSim({ throttleRps: 1 })
      const results = yield* withClient(
        sim.baseUrl,
        Effect.flatMap(MirageClient, (c) =>
          Effect.forEach(Array.from({ length: 6 }), () => Effect.either(c.listVideosPage()), { concurrency: "unbounded" })
        )
      )
      const limited = results.flatMap((r) => (r._tag === "Left" ? [r.left] : []))
      expect(limited.length).toBeGreaterThan(0)
      for (const e of limited) {
        expect(e._tag).toBe("RateLimited")
        if (e._tag === "RateLimited") expect(e.retryAfter).toBeDefined()
        expectNoKey(e)
      }
    })
  )

  it.scopedLive("errorRate → ServerError", () =>
    Effect.gen(function* () {
      const sim = yield* startSim({ errorRate: 1 })
      const e = yield* withClient(sim.baseUrl, Effect.flip(Effect.flatMap(MirageClient, (c) => c.getVideo("video_x"))))
      expect(e._tag).toBe("ServerError")
      if (e._tag === "ServerError") expect([500, 502, 503]).toContain(e.status)
      expectNoKey(e)
    })
  )

  it.scopedLive("resetRate → createVideo fails with TransportError, bodySent true, and the job exists", () =>
    Effect.gen(function* () {
      const sim = yield* startSim({ resetRate: 1 })
      const e = yield* withClient(
        sim.baseUrl,
        Effect.flip(Effect.flatMap(MirageClient, (c) => c.createVideo({ image: alicePng, audio: helloWav })))
      )
      expect(e).toMatchObject({ _tag: "TransportError", bodySent: true, operation: "createVideo" })
      expectNoKey(e)
      const stats = yield* sim.stats
      expect(Object.values(stats.submissions)).toEqual([1])
      const listed = yield* withClient(
        sim.baseUrl,
        Effect.flatMap(MirageClient, (c) => c.listVideosPage())
      )
      expect(listed).toHaveLength(1)
    })
  )

  it.scopedLive("a wrong key → Unauthorized; an unknown id → NotFound", () =>
    Effect.gen(function* () {
      const sim = yield* startSim()
      const wrong = yield* withClient(sim.baseUrl, Effect.flip(Effect.flatMap(MirageClient, (c) => c.getVideo("video_x"))), {
        key: "mira_wrong_key_123456"
      })
      expect(wrong).toMatchObject({ _tag: "Unauthorized", status: 401 })
      const missing = yield* withClient(sim.baseUrl, Effect.flip(Effect.flatMap(MirageClient, (c) => c.getVideo("video_nope"))))
      expect(missing).toMatchObject({ _tag: "NotFound", operation: "getVideo", path: "/v1/videos/video_nope" })
      const missingContent = yield* withClient(
        sim.baseUrl,
        Effect.flip(Effect.flatMap(MirageClient, (c) => c.downloadContent("video_nope", { path: "/nonexistent/never-written" })))
      )
      expect(missingContent).toMatchObject({ _tag: "NotFound" })
      const missingTemplate = yield* withClient(
        sim.baseUrl,
        Effect.flip(Effect.flatMap(MirageClient, (c) => c.getCaptionTemplate("ctpl_nope")))
      )
      expect(missingTemplate).toMatchObject({ _tag: "NotFound" })
      for (const e of [wrong, missing, missingContent, missingTemplate]) expectNoKey(e)
    })
  )

  it.scopedLive("a text file renamed .png → ValidationFailed with its loc", () =>
    Effect.gen(function* () {
      const sim = yield* startSim()
      const dir = yield* tempDir
      const fake = join(dir, "not-really.png")
      writeFileSync(fake, "just some text, not an image\n".repeat(20))
      const e = yield* withClient(
        sim.baseUrl,
        Effect.flip(Effect.flatMap(MirageClient, (c) => c.createVideo({ image: fake, audio: helloWav })))
      )
      expect(e._tag).toBe("ValidationFailed")
      if (e._tag === "ValidationFailed") {
        expect(e.issues.map((i) => i.loc)).toContainEqual(["body", "image_reference"])
        expect(e.message).toContain("body.image_reference")
      }
      expectNoKey(e)
      expect((yield* sim.stats).submissions).toEqual({})
    })
  )

  it.scopedLive("failRate 1 → a FAILED video, surfaced as VideoFailed", () =>
    Effect.gen(function* () {
      const sim = yield* startSim({ failRate: 1, failCodes: ["generation_failed"] })
      const video = yield* withClient(
        sim.baseUrl,
        Effect.flatMap(MirageClient, (c) => Effect.flatMap(c.createVideo({ image: alicePng, audio: helloWav }), (v) => c.getVideo(v.id)))
      )
      expect(video.status).toBe("FAILED")
      const e = failedVideoError(video)
      expect(e).toMatchObject({ _tag: "VideoFailed", videoId: video.id, code: "generation_failed" })
      expect(e.message.length).toBeGreaterThan(0)
      expectNoKey(e)
    })
  )

  it.scopedLive("truncateRate → IncompleteDownload; resuming from bytesOnDisk completes a file identical to a clean download", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      const content = join(dir, "content.mp4")
      const bytes = Buffer.alloc(4 * 1024 * 1024)
      for (let i = 0; i < bytes.length; i += 4) bytes.writeUInt32LE((i * 2654435761) >>> 0, i)
      writeFileSync(content, bytes)

      const clean = yield* startSim({ contentFile: content })
      const cleanOut = join(dir, "clean.mp4")
      yield* withClient(
        clean.baseUrl,
        Effect.flatMap(MirageClient, (c) =>
          Effect.flatMap(c.createVideo({ image: alicePng, audio: helloWav }), (v) => c.downloadContent(v.id, { path: cleanOut }))
        )
      )

      const sim = yield* startSim({ contentFile: content, truncateRate: 0.5, seed: 3 })
      const out = join(dir, "resumed.mp4")
      const failures: Array<IncompleteDownload> = []
      const final = yield* withClient(
        sim.baseUrl,
        Effect.gen(function* () {
          const c = yield* MirageClient
          const v = yield* c.createVideo({ image: alicePng, audio: helloWav })
          let resumeFrom = 0
          for (let attempt = 0; attempt < 30; attempt++) {
            const result = yield* Effect.either(c.downloadContent(v.id, { path: out, resumeFrom }))
            if (result._tag === "Right") return result.right
            if (result.left._tag !== "IncompleteDownload") return yield* Effect.fail(result.left)
            failures.push(result.left)
            expectNoKey(result.left)
            expect(statSync(out).size).toBe(result.left.bytesOnDisk)
            resumeFrom = result.left.bytesOnDisk
          }
          return yield* Effect.dieMessage("never completed")
        })
      )
      expect(failures.length).toBeGreaterThan(1)
      expect(failures[0]).toMatchObject({ operation: "downloadContent", totalBytes: bytes.length, path: out })
      expect(final.resumed).toBe(true)
      expect(final.totalBytes).toBe(bytes.length)
      expect(sha256(out)).toBe(sha256(cleanOut))
      expect(sha256(out)).toBe(sha256(content))
    })
  )
})
