import { parseBuffer } from "music-metadata"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { limits } from "../../src/mirage/limits.ts"
import { placeholderMp4Bytes } from "../../src/sim/placeholderMp4.ts"
import { alicePng, form, get, issuesOf, locs, type Part, post, type RunningSim, sleep, startSim } from "./support.ts"

describe("POST /v1/audio/text-to-speech/{voice_id}", () => {
  let sim: RunningSim
  beforeAll(async () => {
    sim = await startSim({ renderFactor: 0, ffmpeg: false })
  })
  afterAll(() => sim.close())

  const speak = (body: unknown, voice = "voice_anna") => post(sim, `/v1/audio/text-to-speech/${voice}`, JSON.stringify(body))

  const secondsOf = async (response: Response) => {
    expect(response.status).toBe(200)
    expect(response.headers.get("content-type")).toBe("audio/wav")
    const bytes = new Uint8Array(await response.arrayBuffer())
    expect(Buffer.from(bytes.subarray(0, 4)).toString("latin1")).toBe("RIFF")
    return (await parseBuffer(bytes, { mimeType: "audio/wav" }, { duration: true })).format.duration ?? 0
  }

  it("answers WAV audio whose length grows with the text", async () => {
    const short = await secondsOf(await speak({ text: "Hi", model: "mirage-audio-1" }))
    const long = await secondsOf(
      await speak({ text: "Welcome to the spring launch, everyone. Here is what is new this season.", model: "mirage-audio-1" })
    )
    expect(short).toBeCloseTo(0.5, 1)
    expect(long).toBeGreaterThan(short * 4)
  })

  it("refuses empty or too long text, a wrong or missing model, and bad JSON", async () => {
    const empty = await issuesOf(await speak({ text: "", model: "mirage-audio-1" }))
    expect(empty).toEqual([expect.objectContaining({ loc: ["body", "text"], type: "string_too_short" })])
    const tooLong = await issuesOf(await speak({ text: "a".repeat(limits.maxSpeechChars + 1), model: "mirage-audio-1" }))
    expect(tooLong).toEqual([expect.objectContaining({ loc: ["body", "text"], type: "string_too_long" })])
    const model = await issuesOf(await speak({ text: "Hello", model: "mirage-audio-2" }))
    expect(model).toEqual([expect.objectContaining({ loc: ["body", "model"], type: "enum" })])
    expect(locs(await issuesOf(await speak({ text: "Hello" })))).toEqual(["body.model"])
    expect(locs(await issuesOf(await post(sim, "/v1/audio/text-to-speech/v", "{not json")))).toEqual(["body"])
  })
})

interface Overlay {
  readonly id: string
  readonly object: string
  readonly status: string
  readonly created_at: number
  readonly completed_at: number | null
  readonly results: ReadonlyArray<{ index: number; text: string; status: string; video_url: string | null; error: unknown }>
  readonly error: unknown
}

describe("Meta text overlays", () => {
  let sim: RunningSim
  beforeAll(async () => {
    sim = await startSim({ renderFactor: 0, ffmpeg: false })
  })
  afterAll(() => sim.close())

  const video: Part = ["video", placeholderMp4Bytes, "clip.mp4"]
  const overlay = (parts: ReadonlyArray<Part>, target = sim) => post(target, "/v1/meta/text_overlays", form(parts))

  it("renders each text and links each result to the file host", async () => {
    const response = await overlay([video, ["texts", "Spring is here"], ["texts", "Save 20%"], ["colors", "#FFCC00"]])
    expect(response.status).toBe(200)
    const created = (await response.json()) as Overlay
    expect(created).toMatchObject({ object: "text_overlay", status: "QUEUED", results: [] })
    const done = (await (await get(sim, `/v1/meta/text_overlays/${created.id}`)).json()) as Overlay
    expect(done.status).toBe("COMPLETE")
    expect(done.results.map((r) => [r.index, r.text, r.status])).toEqual([
      [0, "Spring is here", "COMPLETE"],
      [1, "Save 20%", "COMPLETE"]
    ])
    for (const result of done.results) {
      expect(result.video_url?.startsWith(`${sim.fileBaseUrl}/files/`)).toBe(true)
      const bytes = new Uint8Array(await (await fetch(result.video_url ?? "")).arrayBuffer())
      expect(bytes).toEqual(placeholderMp4Bytes)
    }
    expect((await get(sim, "/v1/meta/text_overlays/nope")).status).toBe(404)
  })

  it("takes items as a JSON array with styles", async () => {
    const items = JSON.stringify([{ text: "One", style: { font: "Inter", size: 48, color: "#112233" } }, { text: "Two" }])
    const response = await overlay([video, ["items", items]])
    expect(response.status).toBe(200)
  })

  it("needs 1 to 4 texts, #RRGGBB colours and an MP4/MOV video", async () => {
    const five = await issuesOf(await overlay([video, ...["a", "b", "c", "d", "e"].map((t): Part => ["texts", t])]))
    expect(five).toEqual([expect.objectContaining({ loc: ["body", "texts"], type: "too_long" })])
    expect(locs(await issuesOf(await overlay([video])))).toEqual(["body.texts"])
    const colours = await issuesOf(await overlay([video, ["texts", "a"], ["texts", "b"], ["colors", "#FFFFFF"], ["colors", "red"]]))
    expect(locs(colours)).toEqual(["body.colors.1"])
    const styled = await issuesOf(await overlay([video, ["items", JSON.stringify([{ text: "x", style: { color: "blue" } }])]]))
    expect(locs(styled)).toEqual(["body.items.0.style.color"])
    const noVideo = await issuesOf(await overlay([["texts", "a"]]))
    expect(locs(noVideo)).toEqual(["body.video"])
    const image = await issuesOf(
      await overlay([
        ["video", alicePng, "v.mp4"],
        ["texts", "a"]
      ])
    )
    expect(locs(image)).toEqual(["body.video"])
  })

  it("goes QUEUED, PROCESSING, COMPLETE over a short time scaled by the render factor", async () => {
    // Factor 1: 250 ms queued, 750 ms processing.
    const timed = await startSim({ renderFactor: 1, ffmpeg: false })
    try {
      const created = (await (await overlay([video, ["texts", "Hello"]], timed)).json()) as Overlay
      const statuses: Array<string> = []
      const deadline = Date.now() + 5000
      while (Date.now() < deadline) {
        const current = (await (await get(timed, `/v1/meta/text_overlays/${created.id}`)).json()) as Overlay
        if (statuses[statuses.length - 1] !== current.status) statuses.push(current.status)
        if (current.status === "COMPLETE") break
        await sleep(20)
      }
      expect(statuses).toEqual(["QUEUED", "PROCESSING", "COMPLETE"])
    } finally {
      await timed.close()
    }
  })
})
