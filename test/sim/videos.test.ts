import { parseBuffer } from "music-metadata"
import { Effect, Option } from "effect"
import { writeFileSync, mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { limits, MiB } from "../../src/mirage/limits.ts"
import { readMp4Info } from "../../src/sim/mp4Info.ts"
import {
  alicePng,
  contentLocation,
  createVideo,
  ffmpegUsable,
  form,
  get,
  getVideo,
  helloWav,
  issuesOf,
  key,
  locs,
  pollVideo,
  post,
  roomyQuotas,
  type RunningSim,
  sha256,
  startSim,
  type Video,
  videoParts,
  wavOfSeconds,
  welcomeMp3
} from "./support.ts"

describe("authentication", () => {
  let open: RunningSim
  let locked: RunningSim
  beforeAll(async () => {
    open = await startSim({ renderFactor: 0, ffmpeg: false })
    locked = await startSim({ renderFactor: 0, ffmpeg: false, apiKey: "the-key" })
  })
  afterAll(async () => {
    await open.close()
    await locked.close()
  })

  it("answers 401 with a detail when x-api-key is missing or empty, on every API route", async () => {
    for (const path of ["/v1/videos", "/v1/videos/video_x", "/v1/videos/captions/templates"]) {
      const missing = await fetch(`${open.baseUrl}${path}`)
      expect(missing.status).toBe(401)
      expect(await missing.json()).toEqual({ detail: expect.any(String) })
      const empty = await fetch(`${open.baseUrl}${path}`, { headers: { "x-api-key": "" } })
      expect(empty.status).toBe(401)
    }
    const upload = await fetch(`${open.baseUrl}/v1/videos`, { method: "POST", body: form(videoParts()) })
    expect(upload.status).toBe(401)
  })

  it("accepts any non-empty key when none is configured, and only the configured one otherwise", async () => {
    expect((await fetch(`${open.baseUrl}/v1/videos`, { headers: { "x-api-key": "anything" } })).status).toBe(200)
    expect((await fetch(`${locked.baseUrl}/v1/videos`, { headers: { "x-api-key": "wrong" } })).status).toBe(401)
    expect((await fetch(`${locked.baseUrl}/v1/videos`, { headers: { "x-api-key": "the-key" } })).status).toBe(200)
  })

  it("keeps each key's videos to itself", async () => {
    const video = await createVideo(open)
    const other = await fetch(`${open.baseUrl}/v1/videos/${video.id}`, { headers: { "x-api-key": "someone-else" } })
    expect(other.status).toBe(404)
    const list = await fetch(`${open.baseUrl}/v1/videos`, { headers: { "x-api-key": "someone-else" } })
    expect(await list.json()).toEqual([])
  })
})

describe("POST /v1/videos validation", () => {
  let sim: RunningSim
  beforeAll(async () => {
    sim = await startSim({ renderFactor: 0, ffmpeg: false, quotas: roomyQuotas })
  })
  afterAll(() => sim.close())

  const submit = (parts: Parameters<typeof form>[0]) => post(sim, "/v1/videos", form(parts))

  it("accepts a PNG or JPEG with a WAV or MP3 and answers a PROCESSING video object", async () => {
    const response = await submit(videoParts(alicePng, welcomeMp3))
    expect(response.status).toBe(200)
    const video = (await response.json()) as Video
    expect(video).toEqual({
      id: expect.stringMatching(/^video_[A-Za-z0-9]+$/),
      object: "video",
      status: "PROCESSING",
      created_at: expect.any(Number),
      completed_at: null,
      progress: 0,
      error: null,
      model: "mirage-video-1-latest",
      source_video_id: null,
      caption_template_id: null,
      share_link_url: null,
      video_id: video.id
    })
    expect(Math.abs(video.created_at - Date.now() / 1000)).toBeLessThan(5)
  })

  it("reports both missing files", async () => {
    const issues = await issuesOf(await submit([["model", "mirage-video-1-latest"]]))
    expect(issues).toEqual([
      { loc: ["body", "image_reference"], msg: "Field required", type: "missing" },
      { loc: ["body", "audio_reference"], msg: "Field required", type: "missing" }
    ])
  })

  it("recognises files by their bytes, not their names", async () => {
    const issues = await issuesOf(
      await submit([
        ["image_reference", helloWav, "looks-like.png"],
        ["audio_reference", alicePng, "looks-like.wav"]
      ])
    )
    expect(locs(issues)).toEqual(["body.image_reference", "body.audio_reference"])
    expect(issues.every((i) => i.type === "value_error")).toBe(true)
  })

  it("lists every violation of one request: unknown field, wrong model, empty audio", async () => {
    const issues = await issuesOf(
      await submit([
        ["image_reference", alicePng, "a.png"],
        ["audio_reference", new Uint8Array(0), "a.wav"],
        ["model", "mirage-video-2"],
        ["prompt", "smile"]
      ])
    )
    expect(issues).toEqual(
      expect.arrayContaining([
        { loc: ["body", "prompt"], msg: "Extra inputs are not permitted", type: "extra_forbidden" },
        { loc: ["body", "model"], msg: "Input should be 'mirage-video-1-latest'", type: "enum" },
        expect.objectContaining({ loc: ["body", "audio_reference"], msg: expect.stringContaining("empty") })
      ])
    )
    expect(issues).toHaveLength(3)
  })

  it("refuses an image over the size limit", async () => {
    const big = new Uint8Array(limits.maxImageBytes + 1)
    big.set(alicePng, 0)
    const issues = await issuesOf(await submit(videoParts(big, helloWav)))
    expect(locs(issues)).toEqual(["body.image_reference"])
    expect(issues[0]?.msg).toContain(`${(limits.maxImageBytes / MiB).toFixed(1)} MiB`)
  })

  it("refuses audio longer than the limit", async () => {
    const issues = await issuesOf(await submit(videoParts(alicePng, wavOfSeconds(limits.maxAudioSeconds + 1))))
    expect(locs(issues)).toEqual(["body.audio_reference"])
    expect(issues[0]?.msg).toContain(`${limits.maxAudioSeconds} s`)
  })

  it("refuses audio whose duration cannot be read (a WAV header without frames)", async () => {
    const issues = await issuesOf(await submit(videoParts(alicePng, helloWav.subarray(0, 44))))
    expect(issues).toEqual([expect.objectContaining({ loc: ["body", "audio_reference"], msg: expect.stringContaining("duration") })])
  })

  it("refuses a body that is not multipart", async () => {
    const issues = await issuesOf(await post(sim, "/v1/videos", JSON.stringify({ image_reference: "x" })))
    expect(locs(issues)).toEqual(["body"])
  })

  it("refuses a file sent as a plain text field", async () => {
    const issues = await issuesOf(
      await submit([
        ["image_reference", "not a file"],
        ["audio_reference", helloWav, "a.wav"]
      ])
    )
    expect(locs(issues)).toEqual(["body.image_reference"])
  })
})

describe("job timeline", () => {
  it("is COMPLETE from the first poll at render factor 0", async () => {
    const sim = await startSim({ renderFactor: 0, ffmpeg: false })
    try {
      const created = await createVideo(sim)
      expect(created.status).toBe("PROCESSING")
      const video = await getVideo(sim, created.id)
      expect(video).toMatchObject({ status: "COMPLETE", progress: 100, error: null })
      expect(video.completed_at).toBeGreaterThanOrEqual(video.created_at)
    } finally {
      await sim.close()
    }
  })

  it("rises linearly to COMPLETE over factor × audio duration", async () => {
    // hello.wav lasts 2 s: 0.25 × 2 s = 500 ms of PROCESSING.
    const sim = await startSim({ renderFactor: 0.25, queuedMs: 0 })
    try {
      const started = Date.now()
      const created = await createVideo(sim)
      const seen = await pollVideo(sim, created.id, (v) => v.status !== "PROCESSING")
      const elapsed = Date.now() - started
      const last = seen[seen.length - 1]
      expect(last).toMatchObject({ status: "COMPLETE", progress: 100 })
      expect(last?.completed_at).not.toBeNull()
      expect(elapsed).toBeGreaterThanOrEqual(500)
      const processing = seen.filter((v) => v.status === "PROCESSING").map((v) => v.progress ?? -1)
      expect(processing.length).toBeGreaterThan(2)
      expect(processing.every((p) => p >= 0 && p < 100)).toBe(true)
      expect(processing).toEqual([...processing].sort((a, b) => a - b))
      expect(processing.some((p) => p > 0 && p < 100)).toBe(true)
    } finally {
      await sim.close()
    }
  })

  it("answers 404 for unknown videos and 409 for content that is not ready", async () => {
    const sim = await startSim({ renderFactor: 100, ffmpeg: false, queuedMs: 0 })
    try {
      const unknown = await get(sim, "/v1/videos/video_doesnotexist")
      expect(unknown.status).toBe(404)
      expect(await unknown.json()).toEqual({ detail: expect.any(String) })
      expect((await get(sim, "/v1/videos/video_doesnotexist/content")).status).toBe(404)
      const video = await createVideo(sim)
      const early = await get(sim, `/v1/videos/${video.id}/content`, { redirect: "manual" })
      expect(early.status).toBe(409)
      expect(((await early.json()) as { detail: string }).detail).toContain("PROCESSING")
    } finally {
      await sim.close()
    }
  })
})

describe("GET /v1/videos", () => {
  let sim: RunningSim
  let created: ReadonlyArray<Video>
  beforeAll(async () => {
    sim = await startSim({ renderFactor: 0, ffmpeg: false, quotas: roomyQuotas })
    const videos: Array<Video> = []
    for (let i = 0; i < 5; i++) videos.push(await createVideo(sim))
    created = videos
  })
  afterAll(() => sim.close())

  const ids = async (query: string) => ((await (await get(sim, `/v1/videos${query}`)).json()) as ReadonlyArray<Video>).map((v) => v.id)

  it("lists newest first by default, 20 at most", async () => {
    expect(await ids("")).toEqual(created.map((v) => v.id).reverse())
  })

  it("pages with limit and the after cursor, in either order", async () => {
    const newest = created.map((v) => v.id).reverse()
    const first = await ids("?limit=2")
    expect(first).toEqual(newest.slice(0, 2))
    const second = await ids(`?limit=2&after=${first[1]}`)
    expect(second).toEqual(newest.slice(2, 4))
    expect(await ids(`?limit=2&after=${second[1]}`)).toEqual(newest.slice(4))
    expect(await ids("?order=asc&limit=3")).toEqual(created.slice(0, 3).map((v) => v.id))
  })

  it("refuses limits outside 1..100, unknown orders and unknown cursors", async () => {
    for (const [query, type] of [
      ["?limit=0", "greater_than_equal"],
      ["?limit=101", "less_than_equal"],
      ["?limit=ten", "int_parsing"]
    ] as const) {
      const issues = await issuesOf(await get(sim, `/v1/videos${query}`))
      expect(issues).toEqual([expect.objectContaining({ loc: ["query", "limit"], type })])
    }
    expect(locs(await issuesOf(await get(sim, "/v1/videos?order=newest")))).toEqual(["query.order"])
    expect(locs(await issuesOf(await get(sim, "/v1/videos?after=video_unknown")))).toEqual(["query.after"])
    expect((await ids("?limit=100&after=")).length).toBe(5)
  })
})

describe("content and the file host", () => {
  let sim: RunningSim
  let location: string
  beforeAll(async () => {
    sim = await startSim({ renderFactor: 0, ffmpeg: false })
    location = await contentLocation(sim, (await createVideo(sim)).id)
  })
  afterAll(() => sim.close())

  it("redirects to the second origin with a .mp4 file", () => {
    expect(location.startsWith(`${sim.fileBaseUrl}/files/`)).toBe(true)
    expect(location.endsWith(".mp4")).toBe(true)
    expect(sim.fileBaseUrl).not.toBe(sim.baseUrl)
  })

  it("serves the file with its length and byte ranges", async () => {
    const whole = await fetch(location)
    expect(whole.status).toBe(200)
    expect(whole.headers.get("accept-ranges")).toBe("bytes")
    expect(whole.headers.get("content-type")).toBe("video/mp4")
    const bytes = new Uint8Array(await whole.arrayBuffer())
    expect(Number(whole.headers.get("content-length"))).toBe(bytes.length)

    const rest = await fetch(location, { headers: { range: "bytes=100-" } })
    expect(rest.status).toBe(206)
    expect(rest.headers.get("content-range")).toBe(`bytes 100-${bytes.length - 1}/${bytes.length}`)
    expect(new Uint8Array(await rest.arrayBuffer())).toEqual(bytes.subarray(100))

    const beyond = await fetch(location, { headers: { range: `bytes=${bytes.length}-` } })
    expect(beyond.status).toBe(416)
  })

  it("refuses any request that carries the API key, e.g. a client following the redirect with it", async () => {
    const direct = await fetch(location, { headers: { "x-api-key": key } })
    expect(direct.status).toBe(400)
    // fetch keeps custom headers across a cross-origin redirect: the storage host must refuse.
    const followed = await get(sim, `/v1/videos/${location.split("/files/")[1]?.split("-")[0]}/content`)
    expect(followed.status).toBe(400)
  })

  it("answers 404 for unknown files", async () => {
    expect((await fetch(`${sim.fileBaseUrl}/files/nothing.mp4`)).status).toBe(404)
  })
})

describe.skipIf(!ffmpegUsable)("rendered MP4 (ffmpeg)", () => {
  it("is a real MP4 of the audio's duration, 9:16 with even sides", async () => {
    const sim = await startSim({ renderFactor: 0 })
    const dir = mkdtempSync(join(tmpdir(), "sim-test-"))
    try {
      const video = await createVideo(sim, videoParts(alicePng, welcomeMp3))
      const bytes = new Uint8Array(await (await fetch(await contentLocation(sim, video.id))).arrayBuffer())
      expect(Buffer.from(bytes.subarray(4, 8)).toString("latin1")).toBe("ftyp")
      const audioSeconds = (await parseBuffer(welcomeMp3, { mimeType: "audio/mpeg" }, { duration: true })).format.duration ?? 0
      const videoSeconds = (await parseBuffer(bytes, { mimeType: "video/mp4" }, { duration: true })).format.duration ?? 0
      expect(Math.abs(videoSeconds - audioSeconds)).toBeLessThan(0.25)
      const path = join(dir, "out.mp4")
      writeFileSync(path, bytes)
      const info = Option.getOrThrow(await Effect.runPromise(readMp4Info(path)))
      expect(info.width % 2).toBe(0)
      expect(info.height % 2).toBe(0)
      expect(info.width * 16).toBe(info.height * 9)
    } finally {
      rmSync(dir, { recursive: true, force: true })
      await sim.close()
    }
  })
})

describe("stats", () => {
  it("counts requests by route template, submissions by input digests and jobs by status", async () => {
    const sim = await startSim({ renderFactor: 0, ffmpeg: false, quotas: roomyQuotas })
    try {
      const first = await createVideo(sim)
      await createVideo(sim)
      await createVideo(sim, videoParts(alicePng, welcomeMp3))
      await post(sim, "/v1/videos", form([["image_reference", alicePng, "a.png"]])) // 422: not a submission
      await getVideo(sim, first.id)
      await get(sim, "/v1/videos?limit=1")
      await fetch(await contentLocation(sim, first.id))
      const stats = await (await fetch(`${sim.baseUrl}/__sim/stats`)).json()
      expect(stats).toEqual({
        requests: {
          "POST /v1/videos": 4,
          "GET /v1/videos/{video_id}": 1,
          "GET /v1/videos": 1,
          "GET /v1/videos/{video_id}/content": 1,
          "GET /files/{file}": 1
        },
        submissions: {
          [`${sha256(alicePng)}:${sha256(helloWav)}`]: 2,
          [`${sha256(alicePng)}:${sha256(welcomeMp3)}`]: 1
        },
        jobs: { QUEUED: 0, PROCESSING: 0, COMPLETE: 3, FAILED: 0, CANCELLED: 0 },
        refused: {}
      })
      expect(await Effect.runPromise(sim.stats)).toEqual(stats)
    } finally {
      await sim.close()
    }
  })
})
