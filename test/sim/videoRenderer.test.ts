/**
 * The render cache: renders are shared by identical inputs, so an entry that is inserted but never
 * completed would leave every later video with those inputs PROCESSING forever.
 */
import { describe, expect, it } from "@effect/vitest"
import { FileSystem } from "@effect/platform"
import { NodeCommandExecutor, NodeFileSystem } from "@effect/platform-node"
import { Deferred, Effect, Fiber, Layer } from "effect"
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { request as httpRequest } from "node:http"
import { makeVideoRenderer } from "../../src/sim/videoRenderer.ts"
import {
  alicePng,
  createVideo,
  encodedForm,
  ffmpegUsable,
  form,
  getVideo,
  helloWav,
  key,
  roomyQuotas,
  sha256,
  startSim,
  videoParts
} from "./support.ts"

const tempRoot = Effect.acquireRelease(
  Effect.sync(() => mkdtempSync(join(tmpdir(), "sim-renderer-"))),
  (dir) => Effect.sync(() => rmSync(dir, { recursive: true, force: true }))
)

/** The node file system, except that the first `rename` announces itself and waits to be let go. */
const gatedFileSystem = (started: Deferred.Deferred<void>, release: Deferred.Deferred<void>) =>
  Layer.effect(
    FileSystem.FileSystem,
    Effect.map(FileSystem.FileSystem, (fs): FileSystem.FileSystem => {
      let first = true
      return {
        ...fs,
        rename: (from, to) => {
          if (!first) return fs.rename(from, to)
          first = false
          return Deferred.succeed(started, undefined).pipe(Effect.zipRight(Deferred.await(release)), Effect.zipRight(fs.rename(from, to)))
        }
      }
    })
  ).pipe(Layer.provide(NodeFileSystem.layer))

const uploadOf = (root: string, name: string) => {
  const imagePath = join(root, `${name}.png`)
  const audioPath = join(root, `${name}.wav`)
  writeFileSync(imagePath, alicePng)
  writeFileSync(audioPath, helloWav)
  return { key: `${sha256(alicePng)}:${sha256(helloWav)}`, imagePath, audioPath, audioSeconds: 2 }
}

describe.skipIf(!ffmpegUsable)("render cache (ffmpeg)", () => {
  it.scopedLive("a caller interrupted right after its render was cached does not leave the render unfinished", () =>
    Effect.gen(function* () {
      const root = yield* tempRoot
      const started = yield* Deferred.make<void>()
      const release = yield* Deferred.make<void>()
      const renderer = yield* makeVideoRenderer({ root, useFfmpeg: true }).pipe(
        Effect.provide(Layer.merge(gatedFileSystem(started, release), NodeCommandExecutor.layer.pipe(Layer.provide(NodeFileSystem.layer))))
      )
      expect(renderer.engine).toBe("ffmpeg")

      // The first caller's render is in the cache and moving its inputs when its client goes away.
      const first = yield* Effect.fork(renderer.render(uploadOf(root, "first")))
      yield* Deferred.await(started)
      const interrupted = yield* Effect.fork(Fiber.interrupt(first))
      yield* Deferred.succeed(release, undefined)
      yield* Fiber.join(interrupted)

      // A later job with the same inputs joins the cached render: it must finish, with a real file.
      const later = yield* renderer.render(uploadOf(root, "later"))
      const rendered = yield* Deferred.await(later).pipe(Effect.timeout("10 seconds"))
      expect(rendered.path).not.toBe(renderer.placeholderPath)
      expect(rendered.path.endsWith(".mp4")).toBe(true)
    })
  )
})

describe("a client that goes away mid-submission", () => {
  it.live("does not stop later submissions of the same inputs from completing", () =>
    Effect.gen(function* () {
      const sim = yield* Effect.acquireRelease(
        Effect.promise(() => startSim({ renderFactor: 0, quotas: roomyQuotas })),
        (running) => Effect.promise(() => running.close())
      )
      const { bytes, contentType } = yield* Effect.promise(() => encodedForm(form(videoParts())))
      // The whole body is sent, then the connection is closed before any answer.
      yield* Effect.async<void>((resume) => {
        const url = new URL(`${sim.baseUrl}/v1/videos`)
        const request = httpRequest({
          host: url.hostname,
          port: url.port,
          path: url.pathname,
          method: "POST",
          headers: { "x-api-key": key, "content-type": contentType, "content-length": String(bytes.length) }
        })
        request.on("error", () => resume(Effect.void))
        request.on("close", () => resume(Effect.void))
        request.end(bytes, () => request.destroy())
      })
      // At render factor 0 a submission waits for its file: a poisoned render would never answer.
      const video = yield* Effect.promise(() => createVideo(sim)).pipe(Effect.timeout("20 seconds"))
      expect((yield* Effect.promise(() => getVideo(sim, video.id))).status).toBe("COMPLETE")
    }).pipe(Effect.scoped)
  )
})
