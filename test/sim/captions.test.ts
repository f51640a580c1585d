import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { placeholderMp4Bytes } from "../../src/sim/placeholderMp4.ts"
import {
  alicePng,
  contentLocation,
  createVideo,
  form,
  get,
  getVideo,
  issuesOf,
  locs,
  type Part,
  post,
  roomyQuotas,
  type RunningSim,
  startSim,
  type Video,
  withDisplaySize
} from "./support.ts"

interface Template {
  readonly id: string
  readonly object: string
  readonly name: string
  readonly preview_url: string | null
  readonly created_at: number
}

interface TemplateList {
  readonly data: ReadonlyArray<Template>
  readonly object: string
  readonly has_more: boolean
}

/** A valid 9:16 MP4 (180×320). */
const portraitMp4 = placeholderMp4Bytes
const landscapeMp4 = withDisplaySize(placeholderMp4Bytes, 320, 180)

describe("caption templates", () => {
  let sim: RunningSim
  let all: ReadonlyArray<Template>
  beforeAll(async () => {
    sim = await startSim({ renderFactor: 0, ffmpeg: false })
    all = ((await (await get(sim, "/v1/videos/captions/templates")).json()) as TemplateList).data
  })
  afterAll(() => sim.close())

  it("lists a handful of fixed templates", async () => {
    const list = (await (await get(sim, "/v1/videos/captions/templates")).json()) as TemplateList
    expect(list.object).toBe("list")
    expect(list.has_more).toBe(false)
    expect(all.length).toBeGreaterThanOrEqual(3)
    for (const template of all) {
      expect(template).toEqual({
        id: expect.stringMatching(/^ctpl_/),
        object: "caption_template",
        name: expect.any(String),
        preview_url: expect.stringContaining(sim.fileBaseUrl),
        created_at: expect.any(Number)
      })
    }
    const preview = await fetch(all[0]?.preview_url ?? "")
    expect(preview.status).toBe(200)
  })

  it("pages with limit and after", async () => {
    const page = (await (await get(sim, "/v1/videos/captions/templates?limit=2")).json()) as TemplateList
    expect(page.data.map((t) => t.id)).toEqual(all.slice(0, 2).map((t) => t.id))
    expect(page.has_more).toBe(true)
    const next = (await (await get(sim, `/v1/videos/captions/templates?limit=100&after=${all[1]?.id}`)).json()) as TemplateList
    expect(next.data.map((t) => t.id)).toEqual(all.slice(2).map((t) => t.id))
    expect(next.has_more).toBe(false)
    expect(locs(await issuesOf(await get(sim, "/v1/videos/captions/templates?limit=0")))).toEqual(["query.limit"])
  })

  it("retrieves one template, 404 for unknown ids", async () => {
    const one = await get(sim, `/v1/videos/captions/templates/${all[2]?.id}`)
    expect(await one.json()).toEqual(all[2])
    expect((await get(sim, "/v1/videos/captions/templates/ctpl_nope")).status).toBe(404)
  })
})

describe("POST /v1/videos/captions", () => {
  let sim: RunningSim
  let templateId: string
  beforeAll(async () => {
    sim = await startSim({ renderFactor: 0, ffmpeg: false, quotas: roomyQuotas })
    const list = (await (await get(sim, "/v1/videos/captions/templates")).json()) as TemplateList
    templateId = list.data[0]?.id ?? ""
  })
  afterAll(() => sim.close())

  const caption = (parts: ReadonlyArray<Part>) => post(sim, "/v1/videos/captions", form(parts))

  it("captions an existing COMPLETE video: a new video whose content is the source's", async () => {
    const source = await createVideo(sim)
    const response = await caption([
      ["caption_template_id", templateId],
      ["video_id", source.id]
    ])
    expect(response.status).toBe(200)
    const captioned = (await response.json()) as Video
    expect(captioned).toMatchObject({
      object: "video",
      status: "PROCESSING",
      model: null,
      source_video_id: source.id,
      caption_template_id: templateId
    })
    expect(captioned.id).not.toBe(source.id)
    expect((await getVideo(sim, captioned.id)).status).toBe("COMPLETE")
    const sourceBytes = await (await fetch(await contentLocation(sim, source.id))).arrayBuffer()
    const captionedBytes = await (await fetch(await contentLocation(sim, captioned.id))).arrayBuffer()
    expect(new Uint8Array(captionedBytes)).toEqual(new Uint8Array(sourceBytes))
  })

  it("captions an uploaded 9:16 MP4", async () => {
    const response = await caption([
      ["caption_template_id", templateId],
      ["video", portraitMp4, "clip.mp4"]
    ])
    expect(response.status).toBe(200)
    const captioned = (await response.json()) as Video
    expect(captioned).toMatchObject({ source_video_id: null, caption_template_id: templateId })
    const bytes = await (await fetch(await contentLocation(sim, captioned.id))).arrayBuffer()
    expect(new Uint8Array(bytes)).toEqual(portraitMp4)
  })

  it("refuses a 16:9 upload and a file that is not a video", async () => {
    const wide = await issuesOf(
      await caption([
        ["caption_template_id", templateId],
        ["video", landscapeMp4, "wide.mp4"]
      ])
    )
    expect(locs(wide)).toEqual(["body.video"])
    expect(wide[0]?.msg).toContain("9:16")
    const png = await issuesOf(
      await caption([
        ["caption_template_id", templateId],
        ["video", alicePng, "clip.mp4"]
      ])
    )
    expect(locs(png)).toEqual(["body.video"])
  })

  it("needs exactly one of video and video_id, a known template and a COMPLETE source", async () => {
    const source = await createVideo(sim)
    const both = await issuesOf(
      await caption([
        ["caption_template_id", templateId],
        ["video_id", source.id],
        ["video", portraitMp4, "c.mp4"]
      ])
    )
    expect(locs(both)).toEqual(["body"])
    expect(locs(await issuesOf(await caption([["caption_template_id", templateId]])))).toEqual(["body"])
    const unknown = await issuesOf(
      await caption([
        ["caption_template_id", "ctpl_nope"],
        ["video_id", "video_nope"]
      ])
    )
    expect(locs(unknown)).toEqual(["body.caption_template_id", "body.video_id"])
    expect(locs(await issuesOf(await caption([["video_id", source.id]])))).toEqual(["body.caption_template_id"])

    const slow = await startSim({ renderFactor: 100, ffmpeg: false })
    try {
      const processing = await createVideo(slow)
      const issues = await issuesOf(
        await post(
          slow,
          "/v1/videos/captions",
          form([
            ["caption_template_id", templateId],
            ["video_id", processing.id]
          ])
        )
      )
      expect(issues).toEqual([expect.objectContaining({ loc: ["body", "video_id"], msg: expect.stringContaining("COMPLETE") })])
    } finally {
      await slow.close()
    }
  })

  it("progresses over factor × the source's duration", async () => {
    const timed = await startSim({ renderFactor: 0.5, ffmpeg: false, queuedMs: 0 })
    try {
      // The placeholder lasts about 1.1 s: about 560 ms of PROCESSING.
      const response = await post(
        timed,
        "/v1/videos/captions",
        form([
          ["caption_template_id", templateId],
          ["video", portraitMp4, "c.mp4"]
        ])
      )
      const captioned = (await response.json()) as Video
      expect((await getVideo(timed, captioned.id)).status).toBe("PROCESSING")
      await new Promise((resolve) => setTimeout(resolve, 650))
      expect((await getVideo(timed, captioned.id)).status).toBe("COMPLETE")
    } finally {
      await timed.close()
    }
  })
})
