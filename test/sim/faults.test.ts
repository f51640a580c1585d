import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { placeholderMp4Bytes } from "../../src/sim/placeholderMp4.ts"
import {
  alicePng,
  contentLocation,
  createVideo,
  form,
  get,
  getVideo,
  helloWav,
  post,
  readBody,
  roomyQuotas,
  type RunningSim,
  sha256,
  sleep,
  startSim,
  videoParts
} from "./support.ts"
import type { SimulatorOptions } from "../../src/sim/Simulator.ts"

/** Runs `scenario` against a fresh simulator and closes it. */
const withSim = async <A>(options: Partial<SimulatorOptions>, scenario: (sim: RunningSim) => Promise<A>): Promise<A> => {
  const sim = await startSim({ renderFactor: 0, ffmpeg: false, quotas: roomyQuotas, ...options })
  try {
    return await scenario(sim)
  } finally {
    await sim.close()
  }
}

/** Whether a POST /v1/videos got an answer (false: the connection was dropped). */
const submitSurvives = (sim: RunningSim) =>
  post(sim, "/v1/videos", form(videoParts())).then(
    (response) => response.status === 200,
    () => false
  )

describe("errorRate", () => {
  const statuses = async (sim: RunningSim) => {
    const seen: Array<number> = []
    for (let i = 0; i < 30; i++) seen.push((await get(sim, "/v1/videos")).status)
    return seen
  }

  it("answers a seeded share of requests 500/502/503, the same ones for the same seed", async () => {
    const first = await withSim({ errorRate: 0.4, seed: 7 }, statuses)
    const again = await withSim({ errorRate: 0.4, seed: 7 }, statuses)
    const other = await withSim({ errorRate: 0.4, seed: 8 }, statuses)
    expect(again).toEqual(first)
    expect(other).not.toEqual(first)
    const failed = first.filter((s) => s !== 200)
    expect(failed.length).toBeGreaterThan(3)
    expect(failed.length).toBeLessThan(27)
    expect(failed.every((s) => s === 500 || s === 502 || s === 503)).toBe(true)
  })

  it("fails before doing anything: a 5xx submission creates no job", async () => {
    await withSim({ errorRate: 1 }, async (sim) => {
      const response = await post(sim, "/v1/videos", form(videoParts()))
      expect([500, 502, 503]).toContain(response.status)
      expect(await response.json()).toEqual({ detail: expect.any(String) })
      const stats = await Effect.runPromise(sim.stats)
      expect(stats.submissions).toEqual({})
      expect(stats.jobs).toEqual({ QUEUED: 0, PROCESSING: 0, COMPLETE: 0, FAILED: 0, CANCELLED: 0 })
      expect(stats.requests).toEqual({ "POST /v1/videos": 1 })
    })
  })
})

describe("throttleRps", () => {
  it("answers 429 with Retry-After in whole seconds beyond the rate, and recovers after it", async () => {
    await withSim({ throttleRps: 3 }, async (sim) => {
      const responses = []
      for (let i = 0; i < 5; i++) responses.push(await get(sim, "/v1/videos"))
      expect(responses.map((r) => r.status)).toEqual([200, 200, 200, 429, 429])
      const refused = responses[3]
      const retryAfter = refused?.headers.get("retry-after") ?? ""
      expect(retryAfter).toMatch(/^[1-9]\d*$/)
      expect(await refused?.json()).toEqual({ error: { type: "rate_limit_exceeded", message: "Rate limit exceeded." } })
      await sleep(Number(retryAfter) * 1000)
      expect((await get(sim, "/v1/videos")).status).toBe(200)
    })
  })
})

describe("resetRate", () => {
  it("drops the connection after creating the job: the submission counts and the video exists", async () => {
    await withSim({ resetRate: 1 }, async (sim) => {
      await expect(post(sim, "/v1/videos", form(videoParts()))).rejects.toThrow()
      const stats = await Effect.runPromise(sim.stats)
      expect(stats.submissions).toEqual({ [`${sha256(alicePng)}:${sha256(helloWav)}`]: 1 })
      const listed = (await (await get(sim, "/v1/videos")).json()) as ReadonlyArray<{ id: string; status: string }>
      expect(listed).toHaveLength(1)
      expect(listed[0]?.status).toBe("COMPLETE")
    })
  })

  it("drops the same submissions for the same seed", async () => {
    const run = (seed: number) =>
      withSim({ resetRate: 0.5, seed }, async (sim) => {
        const answered: Array<boolean> = []
        for (let i = 0; i < 12; i++) answered.push(await submitSurvives(sim))
        const stats = await Effect.runPromise(sim.stats)
        expect(Object.values(stats.submissions)).toEqual([12])
        return answered
      })
    const first = await run(3)
    expect(await run(3)).toEqual(first)
    expect(first).toContain(true)
    expect(first).toContain(false)
  })
})

describe("latencyMs", () => {
  it("delays every API response", async () => {
    await withSim({ latencyMs: 150 }, async (sim) => {
      const started = Date.now()
      await get(sim, "/v1/videos")
      expect(Date.now() - started).toBeGreaterThanOrEqual(145)
    })
  })
})

describe("failRate", () => {
  const outcomes = (seed: number) =>
    withSim({ failRate: 0.5, seed, failCodes: ["rate_limit_exceeded", "generation_failed", "content_policy"] }, async (sim) => {
      const seen: Array<string> = []
      for (let i = 0; i < 12; i++) {
        const video = await getVideo(sim, (await createVideo(sim)).id)
        seen.push(video.status === "FAILED" ? `FAILED:${video.error?.code}` : video.status)
        if (video.status === "FAILED") {
          expect(video.error?.message).toEqual(expect.any(String))
          expect(video.completed_at).toBeNull()
        }
      }
      return seen
    })

  it("ends a seeded share of jobs FAILED with one of the configured codes, reproducibly", async () => {
    const first = await outcomes(11)
    expect(await outcomes(11)).toEqual(first)
    const failed = first.filter((s) => s.startsWith("FAILED"))
    expect(failed.length).toBeGreaterThan(0)
    expect(failed.length).toBeLessThan(12)
    expect(failed.every((s) => /^FAILED:(rate_limit_exceeded|generation_failed|content_policy)$/.test(s))).toBe(true)
    expect(first.filter((s) => !s.startsWith("FAILED")).every((s) => s === "COMPLETE")).toBe(true)
  })

  it("fails partway through the render time, and the content of a failed job is never served", async () => {
    await withSim({ failRate: 1, renderFactor: 0.5, queuedMs: 0 }, async (sim) => {
      const video = await createVideo(sim)
      expect(video.status).toBe("PROCESSING")
      let current = await getVideo(sim, video.id)
      while (current.status === "PROCESSING") {
        await sleep(20)
        current = await getVideo(sim, video.id)
      }
      // 0.5 × 2 s = 1 s of render time; failure comes between 10% and 90% of it.
      expect(current.status).toBe("FAILED")
      expect(current.progress).toBeGreaterThanOrEqual(10)
      expect(current.progress).toBeLessThan(100)
      expect(["rate_limit_exceeded", "generation_failed"]).toContain(current.error?.code)
      expect((await get(sim, `/v1/videos/${video.id}/content`, { redirect: "manual" })).status).toBe(409)
      expect((await Effect.runPromise(sim.stats)).jobs).toMatchObject({ FAILED: 1 })
    })
  })
})

describe("truncateRate", () => {
  it("cuts downloads short after promising the full length; ranged requests resume to the whole file", async () => {
    await withSim({ truncateRate: 1 }, async (sim) => {
      const location = await contentLocation(sim, (await createVideo(sim)).id)
      const first = await fetch(location)
      const promised = Number(first.headers.get("content-length"))
      expect(promised).toBe(placeholderMp4Bytes.length)
      const partial = await readBody(first)
      expect(partial.complete).toBe(false)
      expect(partial.bytes.length).toBeLessThan(promised)

      let received = partial.bytes
      for (let attempt = 0; attempt < 200 && received.length < promised; attempt++) {
        const next = await fetch(location, { headers: { range: `bytes=${received.length}-` } })
        expect(next.status).toBe(206)
        const { bytes } = await readBody(next)
        received = new Uint8Array(Buffer.concat([received, bytes]))
      }
      expect(received).toEqual(placeholderMp4Bytes)
    })
  })

  it("cuts the same downloads at the same points for the same seed", async () => {
    const run = (seed: number) =>
      withSim({ truncateRate: 0.5, seed }, async (sim) => {
        const location = await contentLocation(sim, (await createVideo(sim)).id)
        const sizes: Array<number> = []
        for (let i = 0; i < 10; i++) sizes.push((await readBody(await fetch(location))).bytes.length)
        return sizes
      })
    const first = await run(5)
    expect(await run(5)).toEqual(first)
    expect(first).toContain(placeholderMp4Bytes.length)
    expect(first.some((n) => n < placeholderMp4Bytes.length)).toBe(true)
  })
})
