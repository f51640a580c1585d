/**
 * Per-key quotas per kind of request, as the provider publishes them: a sliding window of admitted
 * requests, the documented 429 body, no Retry-After unless asked for. Time-dependent cases run on
 * the TestClock (the simulator follows the clock of the fiber that made it).
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, TestClock } from "effect"
import { publishedQuotas, rateLimitExceededBody, uniformQuotas } from "../../src/mirage/quotas.ts"
import * as Simulator from "../../src/sim/Simulator.ts"
import { form, get, key, post, roomyQuotas, type Target, videoParts } from "./support.ts"

const simulator = (options: Partial<Simulator.SimulatorOptions> = {}) =>
  Effect.orDie(Simulator.make({ renderFactor: 0, ffmpeg: false, ...options }))

/** A response's status and headers, its body read (so the connection is free for the next one). */
const answer = (request: () => Promise<Response>) =>
  Effect.promise(async () => {
    const response = await request()
    return { status: response.status, headers: response.headers, body: await response.text() }
  })

const submit = (sim: Target, apiKey = key) =>
  answer(() => post(sim, "/v1/videos", form(videoParts()), { headers: { "x-api-key": apiKey } }))
const list = (sim: Target) => answer(() => get(sim, "/v1/videos"))

const oneAMinute = uniformQuotas({ count: 1, perMs: 60_000 })

describe("quotas per key and kind", () => {
  it("defaults to the provider's published quotas", () => {
    expect(Simulator.defaultSimulatorOptions.quotas).toEqual(publishedQuotas)
    expect(Simulator.defaultSimulatorOptions.retryAfter).toBe(false)
  })

  it.scoped("admits at most `count` generations in any window of `perMs`; the rest get the documented 429, no Retry-After", () =>
    Effect.gen(function* () {
      const sim = yield* simulator() // 2 generations a minute
      const statuses: Array<number> = []
      statuses.push((yield* submit(sim)).status) // t = 0
      yield* TestClock.adjust("30 seconds")
      statuses.push((yield* submit(sim)).status) // t = 30 s
      yield* TestClock.adjust("15 seconds")
      const refused = yield* submit(sim) // t = 45 s: both still in the window
      statuses.push(refused.status)
      expect(statuses).toEqual([200, 200, 429])
      expect(JSON.parse(refused.body)).toEqual(rateLimitExceededBody)
      expect(refused.body).toBe('{"error":{"type":"rate_limit_exceeded","message":"Rate limit exceeded."}}')
      expect(refused.headers.get("retry-after")).toBeNull()
      expect(refused.headers.get("content-type")).toContain("application/json")

      // Refusals are not counted: the window still frees when the first admission leaves it.
      yield* TestClock.adjust(14_999) // t = 59.999 s
      expect((yield* submit(sim)).status).toBe(429)
      yield* TestClock.adjust(1) // t = 60 s: the request of t = 0 is out of (now − 60 s, now]
      expect((yield* submit(sim)).status).toBe(200)
      expect((yield* submit(sim)).status).toBe(429)
      yield* TestClock.adjust("30 seconds") // t = 90 s: the request of t = 30 s is out
      expect((yield* submit(sim)).status).toBe(200)

      const stats = yield* sim.stats
      expect(stats.requests["POST /v1/videos"]).toBe(7)
      expect(stats.refused).toEqual({ "POST /v1/videos": 3 })
      expect(Object.values(stats.submissions)).toEqual([4])
    })
  )

  it.scoped("counts each key (an organisation) and each kind on its own", () =>
    Effect.gen(function* () {
      const sim = yield* simulator()
      expect((yield* submit(sim)).status).toBe(200)
      expect((yield* submit(sim)).status).toBe(200)
      expect((yield* submit(sim)).status).toBe(429)
      // Another organisation has its own quota; the same one may still poll and list.
      expect((yield* submit(sim, "another-key")).status).toBe(200)
      expect((yield* list(sim)).status).toBe(200)
      expect((yield* answer(() => get(sim, "/v1/videos/video_unknown"))).status).toBe(404)
    })
  )

  it.scoped("with retryAfter, says in whole seconds when a slot frees, at least 1", () =>
    Effect.gen(function* () {
      const sim = yield* simulator({ retryAfter: true, quotas: { ...roomyQuotas, list: { count: 2, perMs: 60_000 } } })
      expect((yield* list(sim)).status).toBe(200) // t = 0
      yield* TestClock.adjust(20_500)
      expect((yield* list(sim)).status).toBe(200) // t = 20.5 s
      yield* TestClock.adjust(4_000)
      const early = yield* list(sim) // t = 24.5 s: a slot frees at 60 s
      expect(early.status).toBe(429)
      expect(early.headers.get("retry-after")).toBe("36")
      expect(JSON.parse(early.body)).toEqual(rateLimitExceededBody)
      yield* TestClock.adjust(35_400) // t = 59.9 s
      expect((yield* list(sim)).headers.get("retry-after")).toBe("1")
      yield* TestClock.adjust(100)
      expect((yield* list(sim)).status).toBe(200)
    })
  )
})

describe("where the quota sits in the gate", () => {
  it.scoped("after authentication: a request without a valid key is 401 and uses none of the quota", () =>
    Effect.gen(function* () {
      const sim = yield* simulator({ quotas: oneAMinute, apiKey: key })
      expect((yield* submit(sim, "wrong-key")).status).toBe(401)
      expect((yield* answer(() => fetch(`${sim.baseUrl}/v1/videos`, { method: "POST", body: form(videoParts()) }))).status).toBe(401)
      expect((yield* submit(sim)).status).toBe(200)
      expect((yield* submit(sim)).status).toBe(429)
      expect((yield* submit(sim, "wrong-key")).status).toBe(401)
      expect((yield* sim.stats).refused).toEqual({ "POST /v1/videos": 1 })
    })
  )

  it.scoped("before an injected 5xx, which uses the quota like any admitted request", () =>
    Effect.gen(function* () {
      const sim = yield* simulator({ quotas: oneAMinute, errorRate: 1 })
      expect([500, 502, 503]).toContain((yield* list(sim)).status)
      expect((yield* list(sim)).status).toBe(429)
    })
  )

  it.scoped("a large refused upload is answered the whole 429 (the body is read before refusing)", () =>
    Effect.gen(function* () {
      const sim = yield* simulator({ quotas: oneAMinute })
      expect((yield* submit(sim)).status).toBe(200)
      const big = new Uint8Array(8 * 1024 * 1024)
      const refused = yield* answer(() =>
        post(
          sim,
          "/v1/videos",
          form([
            ["image_reference", big, "big.png"],
            ["audio_reference", big, "big.wav"]
          ])
        )
      )
      expect(refused.status).toBe(429)
      expect(JSON.parse(refused.body)).toEqual(rateLimitExceededBody)
    })
  )
})

describe("the kind of each route", () => {
  it.scoped("every API route counts against its kind; routes of one kind share it; the file host is not limited", () =>
    Effect.gen(function* () {
      const sim = yield* simulator({ quotas: oneAMinute })
      const speech = (voice: string) =>
        answer(() => post(sim, `/v1/audio/text-to-speech/${voice}`, JSON.stringify({ text: "Hello", model: "mirage-audio-1" })))
      // Pairs of requests of one kind: the first is served (whatever it answers), the second refused.
      const pairs = [
        [() => submit(sim), () => submit(sim)],
        [
          () => answer(() => post(sim, "/v1/videos/captions", form([["caption_template_id", "ctpl_x"]]))),
          () => answer(() => post(sim, "/v1/videos/captions", form([["caption_template_id", "ctpl_x"]])))
        ],
        [() => speech("voice_a"), () => speech("voice_b")],
        [
          () => answer(() => post(sim, "/v1/meta/text_overlays", form([["texts", "Hi"]]))),
          () => answer(() => post(sim, "/v1/meta/text_overlays", form([["texts", "Hi"]])))
        ],
        [() => answer(() => get(sim, "/v1/videos/video_x")), () => answer(() => get(sim, "/v1/meta/text_overlays/overlay_x"))],
        [() => list(sim), () => list(sim)],
        [() => answer(() => get(sim, "/v1/videos/video_x/content")), () => answer(() => get(sim, "/v1/videos/video_y/content"))],
        [
          () => answer(() => get(sim, "/v1/videos/captions/templates")),
          () => answer(() => get(sim, "/v1/videos/captions/templates/ctpl_x"))
        ]
      ] as const
      for (const [first, second] of pairs) {
        expect((yield* first()).status).not.toBe(429)
        expect((yield* second()).status).toBe(429)
      }
      expect((yield* sim.stats).refused).toEqual({
        "POST /v1/videos": 1,
        "POST /v1/videos/captions": 1,
        "POST /v1/audio/text-to-speech/{voice_id}": 1,
        "POST /v1/meta/text_overlays": 1,
        "GET /v1/meta/text_overlays/{text_overlay_id}": 1,
        "GET /v1/videos": 1,
        "GET /v1/videos/{video_id}/content": 1,
        "GET /v1/videos/captions/templates/{template_id}": 1
      })
    })
  )

  it.scoped("the file host (storage) has no quota", () =>
    Effect.gen(function* () {
      const sim = yield* simulator({ quotas: oneAMinute })
      const templates = JSON.parse((yield* answer(() => get(sim, "/v1/videos/captions/templates"))).body) as {
        data: ReadonlyArray<{ preview_url: string }>
      }
      const preview = templates.data[0]?.preview_url ?? ""
      for (let i = 0; i < 5; i++) expect((yield* answer(() => fetch(preview))).status).toBe(200)
    })
  )
})

describe("throttleRps", () => {
  it.scoped("stays a global limit across keys, answered with the documented body and a Retry-After, not counted as a quota", () =>
    Effect.gen(function* () {
      const sim = yield* simulator({ quotas: roomyQuotas, throttleRps: 2 })
      const listAs = (apiKey: string) => answer(() => get(sim, "/v1/videos", { headers: { "x-api-key": apiKey } }))
      expect((yield* listAs("a")).status).toBe(200)
      expect((yield* listAs("b")).status).toBe(200)
      const throttled = yield* listAs("c")
      expect(throttled.status).toBe(429)
      expect(JSON.parse(throttled.body)).toEqual(rateLimitExceededBody)
      expect(throttled.headers.get("retry-after")).toBe("1")
      expect((yield* sim.stats).refused).toEqual({})
      yield* TestClock.adjust("1 second")
      expect((yield* listAs("c")).status).toBe(200)
    })
  )
})
