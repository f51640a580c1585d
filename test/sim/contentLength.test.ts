/**
 * Uploads must carry `Content-Length`: many gateways in front of real APIs refuse a chunked request
 * body with 411, so the simulator does too (unless `requireContentLength: false`). Requests are
 * sent both with fetch (a Blob/FormData body is sized, a ReadableStream is chunked) and node:http.
 */
import { Effect } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { placeholderMp4Bytes } from "../../src/sim/placeholderMp4.ts"
import { encodedForm, form, post, postChunked, rawPost, roomyQuotas, type RunningSim, startSim, videoParts } from "./support.ts"

const lengthRequired = { detail: "Length Required: send the request body with a Content-Length header" }

const speechBody = new TextEncoder().encode(JSON.stringify({ text: "Hello there", model: "mirage-audio-1" }))

describe("requireContentLength (default)", () => {
  let sim: RunningSim
  beforeAll(async () => {
    sim = await startSim({ renderFactor: 0, ffmpeg: false, quotas: roomyQuotas })
  })
  afterAll(() => sim.close())

  it("is on by default", async () => {
    expect(sim.options.requireContentLength).toBe(true)
  })

  it("answers 411 to a chunked multipart upload and accepts the same bytes sent with Content-Length", async () => {
    const before = await Effect.runPromise(sim.stats)
    const { bytes, contentType } = await encodedForm(form(videoParts()))
    const chunked = await postChunked(sim, "/v1/videos", bytes, { headers: { "content-type": contentType } })
    expect(chunked.status).toBe(411)
    expect(await chunked.json()).toEqual(lengthRequired)
    const sized = await post(sim, "/v1/videos", form(videoParts()))
    expect(sized.status).toBe(200)
    const after = await Effect.runPromise(sim.stats)
    // Both are counted as requests; only the sized one became a submission.
    expect((after.requests["POST /v1/videos"] ?? 0) - (before.requests["POST /v1/videos"] ?? 0)).toBe(2)
    expect(Object.values(after.submissions).reduce((a, b) => a + b, 0) - Object.values(before.submissions).reduce((a, b) => a + b, 0)).toBe(
      1
    )
  })

  it("holds for every POST, JSON ones included", async () => {
    const { bytes, contentType } = await encodedForm(
      form([
        ["caption_template_id", "ctpl_x"],
        ["video", placeholderMp4Bytes, "c.mp4"]
      ])
    )
    for (const path of ["/v1/videos/captions", "/v1/meta/text_overlays"]) {
      const response = await postChunked(sim, path, bytes, { headers: { "content-type": contentType } })
      expect(response.status).toBe(411)
    }
    const speech = await postChunked(sim, "/v1/audio/text-to-speech/voice_a", speechBody, {
      headers: { "content-type": "application/json" }
    })
    expect(speech.status).toBe(411)
    expect(await speech.json()).toEqual(lengthRequired)
    const sizedSpeech = await post(sim, "/v1/audio/text-to-speech/voice_a", new TextDecoder().decode(speechBody))
    expect(sizedSpeech.status).toBe(200)
  })

  it("with node:http too: chunked is 411, Content-Length is served", async () => {
    const headers = { "content-type": "application/json" }
    expect(await rawPost(sim, "/v1/audio/text-to-speech/voice_a", speechBody, { sized: false, headers, chunkBytes: 8 })).toEqual({
      status: 411,
      body: JSON.stringify(lengthRequired)
    })
    expect(await rawPost(sim, "/v1/audio/text-to-speech/voice_a", speechBody, { sized: true, headers })).toMatchObject({ status: 200 })
  })

  it("reads a large chunked body to its end before answering 411", async () => {
    const big = new Uint8Array(16 * 1024 * 1024)
    const answer = await rawPost(sim, "/v1/videos", big, { sized: false, headers: { "content-type": "multipart/form-data; boundary=x" } })
    expect(answer).toEqual({ status: 411, body: JSON.stringify(lengthRequired) })
  })
})

describe("411 comes first in the gate", () => {
  it("before authentication and the quota: a refused upload uses none of the quota", async () => {
    const sim = await startSim({
      renderFactor: 0,
      ffmpeg: false,
      apiKey: "the-key",
      quotas: { ...roomyQuotas, generation: { count: 1, perMs: 60_000 } }
    })
    try {
      const { bytes, contentType } = await encodedForm(form(videoParts()))
      const noKey = await postChunked(sim, "/v1/videos", bytes, { headers: { "content-type": contentType, "x-api-key": "" } })
      expect(noKey.status).toBe(411)
      const chunked = await postChunked(sim, "/v1/videos", bytes, { headers: { "content-type": contentType, "x-api-key": "the-key" } })
      expect(chunked.status).toBe(411)
      const sized = await post(sim, "/v1/videos", form(videoParts()), { headers: { "x-api-key": "the-key" } })
      expect(sized.status).toBe(200)
      expect((await Effect.runPromise(sim.stats)).requests["POST /v1/videos"]).toBe(3)
      expect((await Effect.runPromise(sim.stats)).refused).toEqual({})
    } finally {
      await sim.close()
    }
  })
})

describe("requireContentLength: false", () => {
  it("accepts chunked bodies", async () => {
    const sim = await startSim({ renderFactor: 0, ffmpeg: false, requireContentLength: false })
    try {
      const { bytes, contentType } = await encodedForm(form(videoParts()))
      expect((await postChunked(sim, "/v1/videos", bytes, { headers: { "content-type": contentType } })).status).toBe(200)
      const speech = await rawPost(sim, "/v1/audio/text-to-speech/voice_a", speechBody, {
        sized: false,
        headers: { "content-type": "application/json" }
      })
      expect(speech).toMatchObject({ status: 200 })
    } finally {
      await sim.close()
    }
  })
})
