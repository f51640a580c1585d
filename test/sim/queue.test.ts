/**
 * The provider's queue: a video job (generation or captioning) is QUEUED for `queuedMs`, the
 * create answer included, and only then starts its render time. On the TestClock.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, TestClock } from "effect"
import { placeholderMp4Bytes } from "../../src/sim/placeholderMp4.ts"
import * as Simulator from "../../src/sim/Simulator.ts"
import { form, get, getVideo, type Part, post, roomyQuotas, type Target, type Video, videoParts } from "./support.ts"

// hello.wav lasts 2 s: at render factor 1, 2 s of render time after the queue.
const simulator = (options: Partial<Simulator.SimulatorOptions> = {}) =>
  Effect.orDie(Simulator.make({ renderFactor: 1, ffmpeg: false, quotas: roomyQuotas, ...options }))

const json = <A>(request: () => Promise<Response>) =>
  Effect.promise(async () => {
    const response = await request()
    if (response.status !== 200) throw new Error(`answered ${response.status}: ${await response.text()}`)
    return (await response.json()) as A
  })

const create = (sim: Target, path = "/v1/videos", parts: ReadonlyArray<Part> = videoParts()) =>
  json<Video>(() => post(sim, path, form(parts)))
const poll = (sim: Target, id: string) => Effect.promise(() => getVideo(sim, id))
const listed = (sim: Target, id: string) =>
  Effect.map(
    json<ReadonlyArray<Video>>(() => get(sim, "/v1/videos")),
    (videos) => videos.find((v) => v.id === id)
  )

describe("QUEUED", () => {
  it("queues for 2 s by default", () => {
    expect(Simulator.defaultSimulatorOptions.queuedMs).toBe(2000)
  })

  it.scoped("a new video is QUEUED at 0% for queuedMs, then PROCESSING over its render time, then COMPLETE", () =>
    Effect.gen(function* () {
      const sim = yield* simulator() // queuedMs 2000 by default
      const created = yield* create(sim)
      expect(created).toMatchObject({ status: "QUEUED", progress: 0, completed_at: null, error: null })
      expect((yield* sim.stats).jobs).toEqual({ QUEUED: 1, PROCESSING: 0, COMPLETE: 0, FAILED: 0, CANCELLED: 0 })

      const seen: Array<readonly [number, string, number | null]> = []
      for (const [step, at] of [
        [0, 0],
        [1999, 1999],
        [1, 2000],
        [1000, 3000],
        [999, 3999],
        [1, 4000]
      ] as const) {
        yield* TestClock.adjust(step)
        const video = yield* poll(sim, created.id)
        // A list shows each video as GET by id does.
        expect((yield* listed(sim, created.id))?.status).toBe(video.status)
        seen.push([at, video.status, video.progress])
      }
      expect(seen).toEqual([
        [0, "QUEUED", 0],
        [1999, "QUEUED", 0],
        [2000, "PROCESSING", 0],
        [3000, "PROCESSING", 50],
        [3999, "PROCESSING", 99],
        [4000, "COMPLETE", 100]
      ])
      // created + queue + render time.
      expect((yield* poll(sim, created.id)).completed_at).toBe(4)
      expect((yield* sim.stats).jobs).toMatchObject({ QUEUED: 0, COMPLETE: 1 })
    })
  )

  it.scoped("content is not served while QUEUED, and a QUEUED video cannot be captioned", () =>
    Effect.gen(function* () {
      const sim = yield* simulator()
      const created = yield* create(sim)
      const content = yield* Effect.promise(async () => {
        const response = await get(sim, `/v1/videos/${created.id}/content`, { redirect: "manual" })
        return { status: response.status, body: (await response.json()) as { detail: string } }
      })
      expect(content.status).toBe(409)
      expect(content.body.detail).toContain("QUEUED")
      const templates = yield* json<{ data: ReadonlyArray<{ id: string }> }>(() => get(sim, "/v1/videos/captions/templates"))
      const captioning = yield* Effect.promise(async () => {
        const response = await post(
          sim,
          "/v1/videos/captions",
          form([
            ["caption_template_id", templates.data[0]?.id ?? ""],
            ["video_id", created.id]
          ])
        )
        return { status: response.status, body: await response.text() }
      })
      expect(captioning.status).toBe(422)
      expect(captioning.body).toContain("it is QUEUED")
    })
  )

  it.scoped("a job planned to fail fails partway through its render time, never while QUEUED", () =>
    Effect.gen(function* () {
      const sim = yield* simulator({ failRate: 1, queuedMs: 5000 })
      const created = yield* create(sim)
      yield* TestClock.adjust(4999)
      expect((yield* poll(sim, created.id)).status).toBe("QUEUED")
      yield* TestClock.adjust(1) // render starts; failure comes between 10% and 90% of its 2 s
      expect((yield* poll(sim, created.id)).status).toBe("PROCESSING")
      yield* TestClock.adjust(1800)
      const failed = yield* poll(sim, created.id)
      expect(failed.status).toBe("FAILED")
      expect(failed.progress).toBeGreaterThanOrEqual(10)
    })
  )

  it.scoped("captioning jobs queue too", () =>
    Effect.gen(function* () {
      const sim = yield* simulator({ queuedMs: 1000 })
      const templates = yield* json<{ data: ReadonlyArray<{ id: string }> }>(() => get(sim, "/v1/videos/captions/templates"))
      const captioned = yield* create(sim, "/v1/videos/captions", [
        ["caption_template_id", templates.data[0]?.id ?? ""],
        ["video", placeholderMp4Bytes, "clip.mp4"]
      ])
      expect(captioned).toMatchObject({ status: "QUEUED", progress: 0 })
      yield* TestClock.adjust(999)
      expect((yield* poll(sim, captioned.id)).status).toBe("QUEUED")
      yield* TestClock.adjust(1)
      expect((yield* poll(sim, captioned.id)).status).toBe("PROCESSING")
      yield* TestClock.adjust("2 seconds") // past the placeholder's ≈ 1.1 s
      expect((yield* poll(sim, captioned.id)).status).toBe("COMPLETE")
    })
  )

  it.scoped("queuedMs 0: answered PROCESSING at once, as before", () =>
    Effect.gen(function* () {
      const sim = yield* simulator({ queuedMs: 0 })
      const created = yield* create(sim)
      expect(created).toMatchObject({ status: "PROCESSING", progress: 0 })
      yield* TestClock.adjust(1000)
      expect(yield* poll(sim, created.id)).toMatchObject({ status: "PROCESSING", progress: 50 })
    })
  )

  it.scoped("render factor 0 still means at once: no queue, COMPLETE from the first poll", () =>
    Effect.gen(function* () {
      const sim = yield* simulator({ renderFactor: 0, queuedMs: 60_000 })
      const created = yield* create(sim)
      expect(created.status).toBe("PROCESSING")
      expect(yield* poll(sim, created.id)).toMatchObject({ status: "COMPLETE", progress: 100 })
    })
  )
})
