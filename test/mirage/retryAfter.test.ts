import { describe, expect, it } from "@effect/vitest"
import { Duration, Effect, TestClock } from "effect"
import { parseRetryAfter, retryAfterFromHeader } from "../../src/mirage/retryAfter.ts"

const now = Date.parse("2025-03-01T12:00:00Z")

describe("Retry-After", () => {
  it("parses delta seconds", () => {
    expect(parseRetryAfter("3", now)).toEqual(Duration.seconds(3))
    expect(parseRetryAfter(" 120 ", now)).toEqual(Duration.seconds(120))
    expect(parseRetryAfter("0", now)).toEqual(Duration.seconds(0))
  })

  it("parses an HTTP date relative to now, a past date meaning no wait", () => {
    expect(parseRetryAfter("Sat, 01 Mar 2025 12:00:30 GMT", now)).toEqual(Duration.millis(30_000))
    expect(parseRetryAfter("Saturday, 01-Mar-25 12:01:00 GMT", now)).toEqual(Duration.millis(60_000))
    expect(parseRetryAfter("Sat, 01 Mar 2025 11:00:00 GMT", now)).toEqual(Duration.millis(0))
  })

  it("gives undefined for an absent or unparseable value", () => {
    expect(parseRetryAfter(undefined, now)).toBeUndefined()
    expect(parseRetryAfter("soon", now)).toBeUndefined()
    expect(parseRetryAfter("-5", now)).toBeUndefined()
    expect(parseRetryAfter("1.5", now)).toBeUndefined()
    expect(parseRetryAfter("2025-03-01", now)).toBeUndefined()
  })

  it.effect("reads the date against the Clock (TestClock)", () =>
    Effect.gen(function* () {
      yield* TestClock.setTime(now)
      expect(yield* retryAfterFromHeader("Sat, 01 Mar 2025 12:00:05 GMT")).toEqual(Duration.millis(5_000))
      yield* TestClock.adjust("3 seconds")
      expect(yield* retryAfterFromHeader("Sat, 01 Mar 2025 12:00:05 GMT")).toEqual(Duration.millis(2_000))
      expect(yield* retryAfterFromHeader("7")).toEqual(Duration.seconds(7))
    })
  )
})
