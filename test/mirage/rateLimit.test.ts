/**
 * 429s: the documented body (`{"error": {"type", "message"}}`) and `X-RateLimit-*` headers on
 * `RateLimited`, with `Retry-After` first and `X-RateLimit-Reset` second as the wait. Time is the
 * TestClock's, also over real HTTP.
 */
import * as Headers from "@effect/platform/Headers"
import { describe, expect, it } from "@effect/vitest"
import { Duration, Effect, TestClock } from "effect"
import { MirageClient } from "../../src/mirage/MirageClient.ts"
import { RateLimited } from "../../src/mirage/MirageError.ts"
import { rateLimitExceededBody } from "../../src/mirage/quotas.ts"
import { parseProviderError, parseReset, rateLimitedError } from "../../src/mirage/rateLimit.ts"
import { expectNoKey } from "./keyLeak.ts"
import { recorder, secretKey, withClient } from "./support.ts"

const now = Date.parse("2025-03-01T12:00:00Z")
const nowSeconds = now / 1000
const documented = JSON.stringify(rateLimitExceededBody)
const scrub = (text: string) => text.split(secretKey).join("<redacted>")

/** The `RateLimited` of a 429 with these headers and body, at `now` on the TestClock. */
const limited = (headers: Record<string, string>, body = documented) =>
  Effect.gen(function* () {
    yield* TestClock.setTime(now)
    return yield* rateLimitedError("createVideo", Headers.fromInput(headers), body, scrub)
  })

describe("X-RateLimit-Reset", () => {
  it("is delta seconds below 10^9, unix seconds from there, unix milliseconds from 10^12", () => {
    expect(parseReset("30", now)).toBe(now + 30_000)
    expect(parseReset("0", now)).toBe(now)
    expect(parseReset("1.5", now)).toBe(now + 1_500)
    expect(parseReset(String(nowSeconds + 45), now)).toBe(now + 45_000)
    expect(parseReset(String(now + 7_000), now)).toBe(now + 7_000)
    expect(parseReset("999999999", now)).toBe(now + 999_999_999_000)
    expect(parseReset(undefined, now)).toBeUndefined()
    expect(parseReset("soon", now)).toBeUndefined()
    expect(parseReset("-5", now)).toBeUndefined()
  })
})

describe("the 429 body", () => {
  it("the documented body gives type and providerMessage; any other body gives neither", () => {
    expect(parseProviderError(documented, scrub)).toEqual({ type: "rate_limit_exceeded", providerMessage: "Rate limit exceeded." })
    expect(parseProviderError(`{"error":{"message":"Slow down"}}`, scrub)).toEqual({ providerMessage: "Slow down" })
    for (const other of ["", "{}", "not json", `{"error":"rate_limit_exceeded"}`, `{"error":{"type":5}}`, "<html>429</html>", "[]"]) {
      expect(parseProviderError(other, scrub)).toEqual({})
    }
    expect(parseProviderError(`{"error":{"type":"x","message":"key ${secretKey} over quota"}}`, scrub)).toEqual({
      type: "x",
      providerMessage: "key <redacted> over quota"
    })
    expect(parseProviderError(JSON.stringify({ error: { message: "m".repeat(5000) } }), scrub).providerMessage).toHaveLength(300)
  })
})

describe("RateLimited from a 429", () => {
  it.effect("the documented body alone: type and message, no wait, no limits", () =>
    Effect.gen(function* () {
      const e = yield* limited({})
      expect(e).toBeInstanceOf(RateLimited)
      expect(e).toMatchObject({
        operation: "createVideo",
        retryAfter: undefined,
        type: "rate_limit_exceeded",
        providerMessage: "Rate limit exceeded."
      })
      expect(e.limit).toBeUndefined()
      expect(e.remaining).toBeUndefined()
      expect(e.resetAt).toBeUndefined()
      expect(e.message).toBe("createVideo: rate limited by the Mirage API (HTTP 429): Rate limit exceeded.")
    })
  )

  it.effect("no body, or a malformed one: neither field, the error is still RateLimited", () =>
    Effect.gen(function* () {
      for (const body of ["", "gateway says no", `{"error":{"type":["x"]}}`]) {
        const e = yield* limited({ "retry-after": "3" }, body)
        expect(e).toMatchObject({ _tag: "RateLimited", retryAfter: Duration.seconds(3) })
        expect(e.type).toBeUndefined()
        expect(e.providerMessage).toBeUndefined()
        expect(e.message).toBe("createVideo: rate limited by the Mirage API (HTTP 429); retry after 3s")
      }
    })
  )

  it.effect("X-RateLimit-Limit/Remaining/Reset are kept; Reset gives the wait when Retry-After is absent", () =>
    Effect.gen(function* () {
      const delta = yield* limited({ "x-ratelimit-limit": "2", "x-ratelimit-remaining": "0", "x-ratelimit-reset": "30" })
      expect(delta).toMatchObject({ limit: 2, remaining: 0, resetAt: now + 30_000, retryAfter: Duration.millis(30_000) })
      expect(delta.message).toBe(
        "createVideo: rate limited by the Mirage API (HTTP 429): Rate limit exceeded.; retry after 30s; 0 of 2 requests remaining; the limit resets at 2025-03-01T12:00:30.000Z"
      )
      const unix = yield* limited({ "x-ratelimit-reset": String(nowSeconds + 45) })
      expect(unix).toMatchObject({ resetAt: now + 45_000, retryAfter: Duration.millis(45_000) })
      const past = yield* limited({ "x-ratelimit-reset": String(nowSeconds - 10) })
      expect(past).toMatchObject({ resetAt: now - 10_000, retryAfter: Duration.millis(0) })
      // Draft-standard style lists keep their first figure.
      expect(yield* limited({ "x-ratelimit-limit": "100, 100;w=60" })).toMatchObject({ limit: 100 })
      const none = yield* limited({ "x-ratelimit-limit": "many", "x-ratelimit-remaining": "-1", "x-ratelimit-reset": "later" })
      expect([none.limit, none.remaining, none.resetAt, none.retryAfter]).toEqual([undefined, undefined, undefined, undefined])
    })
  )

  it.effect("Retry-After stays the first source; one that does not parse gives way to Reset", () =>
    Effect.gen(function* () {
      const both = yield* limited({ "retry-after": "3", "x-ratelimit-reset": "30" })
      expect(both).toMatchObject({ retryAfter: Duration.seconds(3), resetAt: now + 30_000 })
      const dated = yield* limited({ "retry-after": "Sat, 01 Mar 2025 12:00:05 GMT", "x-ratelimit-reset": "30" })
      expect(dated.retryAfter).toEqual(Duration.millis(5_000))
      const unparsed = yield* limited({ "retry-after": "soon", "x-ratelimit-reset": "30" })
      expect(unparsed.retryAfter).toEqual(Duration.millis(30_000))
    })
  )

  it.effect("the wait follows the Clock", () =>
    Effect.gen(function* () {
      const reset = String(nowSeconds + 60)
      expect((yield* limited({ "x-ratelimit-reset": reset })).retryAfter).toEqual(Duration.millis(60_000))
      yield* TestClock.adjust("20 seconds")
      const later = yield* rateLimitedError("getVideo", Headers.fromInput({ "x-ratelimit-reset": reset }), "", scrub)
      expect(later).toMatchObject({ retryAfter: Duration.millis(40_000), resetAt: now + 60_000 })
    })
  )

  it.scoped("over HTTP: body and headers read from the answer, time from the TestClock; the key never shows", () =>
    Effect.gen(function* () {
      yield* TestClock.setTime(now)
      const server = yield* recorder(() => ({
        status: 429,
        headers: {
          "content-type": "application/json",
          "x-ratelimit-limit": "2",
          "x-ratelimit-remaining": "0",
          "x-ratelimit-reset": String(nowSeconds + 25)
        },
        body: JSON.stringify({ error: { type: "rate_limit_exceeded", message: `Rate limit exceeded for ${secretKey}.` } })
      }))
      const e = yield* withClient(server.baseUrl, Effect.flip(Effect.flatMap(MirageClient, (c) => c.getVideo("v1"))))
      expect(e).toMatchObject({
        _tag: "RateLimited",
        operation: "getVideo",
        type: "rate_limit_exceeded",
        providerMessage: "Rate limit exceeded for <redacted>.",
        limit: 2,
        remaining: 0,
        resetAt: now + 25_000,
        retryAfter: Duration.millis(25_000)
      })
      expectNoKey(e)
    })
  )
})
