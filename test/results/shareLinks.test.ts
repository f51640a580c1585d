/**
 * The provider's share links: the simulator answers one for a COMPLETE video (null before), and
 * the journal keeps it with the render it belongs to. Journals written before share links were
 * recorded still read.
 */
import { Schema } from "effect"
import { afterEach, describe, expect, it } from "vitest"
import { applyEntry, emptyJournalState, JournalEntry } from "../../src/state/journalEntry.ts"
import { alicePng, form, get, helloWav, post, roomyQuotas, startSim, videoParts, type RunningSim } from "../sim/support.ts"

const sims: Array<RunningSim> = []
afterEach(async () => {
  for (const sim of sims.splice(0)) await sim.close()
})

interface VideoView {
  readonly id: string
  readonly status: string
  readonly share_link_url: string | null
}

describe("the simulator's share links", () => {
  const submit = async (renderFactor: number) => {
    const sim = await startSim({ quotas: roomyQuotas, queuedMs: 0, renderFactor, ffmpeg: false })
    sims.push(sim)
    const created = (await (await post(sim, "/v1/videos", form(videoParts(alicePng, helloWav)))).json()) as VideoView
    const now = (await (await get(sim, `/v1/videos/${created.id}`)).json()) as VideoView
    const listed = (await (await get(sim, "/v1/videos")).json()) as ReadonlyArray<VideoView>
    return { sim, created, now, listed: listed.find((v) => v.id === created.id) }
  }

  it("null while the video renders", async () => {
    // 2 s of audio at a render factor of 1000: rendering for the whole test.
    const { created, now, listed } = await submit(1000)
    expect(now.status).toBe("PROCESSING")
    expect([created.share_link_url, now.share_link_url, listed?.share_link_url]).toEqual([null, null, null])
  })

  it("<its base URL>/share/<id> once the video is COMPLETE, in the list too; never in the answer to the submit", async () => {
    // Render factor 0: COMPLETE from the first status check.
    const { sim, created, now, listed } = await submit(0)
    expect(created.share_link_url).toBeNull()
    expect(now.status).toBe("COMPLETE")
    expect(now.share_link_url).toBe(`${sim.baseUrl}/share/${created.id}`)
    expect(listed?.share_link_url).toBe(now.share_link_url)
  })
})

describe("the journal's share links", () => {
  const decode = Schema.decodeUnknownSync(JournalEntry)
  const fp = "sha256:0f"

  it("an old `complete` entry (no share link) still reads; a new one keeps its link with the render", () => {
    const state = emptyJournalState()
    for (const entry of [
      { t: "submitted", fp, job: "out/a.mp4", videoId: "video_1", at: 1 },
      { t: "complete", fp, videoId: "video_1", at: 2 }
    ])
      applyEntry(state, decode(entry))
    expect(state.renders.get(fp)).toMatchObject({ status: "complete", videoId: "video_1" })
    expect(state.renders.get(fp)?.shareLinkUrl).toBeUndefined()

    applyEntry(state, decode({ t: "complete", fp, videoId: "video_1", shareLinkUrl: "https://share.example/video_1", at: 3 }))
    applyEntry(state, decode({ t: "downloaded", job: "out/a.mp4", fp, videoId: "video_1", sha256: "ab", size: 1, mtimeMs: 4, at: 4 }))
    expect(state.renders.get(fp)?.shareLinkUrl).toBe("https://share.example/video_1")
  })

  it("a link belongs to its video: a render submitted again (another video) forgets the old one", () => {
    const state = emptyJournalState()
    for (const entry of [
      { t: "submitted", fp, job: "out/a.mp4", videoId: "video_1", at: 1 },
      { t: "complete", fp, videoId: "video_1", shareLinkUrl: "https://share.example/video_1", at: 2 },
      { t: "adopted", fp, job: "out/a.mp4", videoId: "video_2", at: 3 }
    ])
      applyEntry(state, decode(entry))
    expect(state.renders.get(fp)).toMatchObject({ status: "submitted", videoId: "video_2" })
    expect(state.renders.get(fp)?.shareLinkUrl).toBeUndefined()
  })
})
