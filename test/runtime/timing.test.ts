/** The run's clocks: polling delays, backoff, the shared gate and retries, driven by TestClock. */
import { describe, expect, it } from "@effect/vitest"
import { Duration, Effect, Either, Fiber, Ref, TestClock } from "effect"
import fc from "fast-check"
import { RateLimited, ServerError, TransportError, ValidationFailed, type MirageError } from "../../src/mirage/MirageError.ts"
import { nextPollDelay } from "../../src/runtime/pollDelay.ts"
import { makeRequestGate, paddedSpacingMs } from "../../src/runtime/requestGate.ts"
import { backoffMillis, retrying, type RetryNotice } from "../../src/runtime/retry.ts"
import { perMinute, publishedQuotas, uniformQuotas } from "../../src/mirage/quotas.ts"

const policy = { attempts: 4, initialDelay: Duration.seconds(1), maxDelay: Duration.seconds(10), patience: Duration.zero }
const roomy = uniformQuotas(perMinute(1_000_000))
const gateAt = (requestsPerSecond: number, quotas = roomy) => makeRequestGate({ requestsPerSecond, quotas })

describe("adaptive polling", () => {
  it("stays within [interval, maxInterval] whatever the provider reports", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 60_000 }),
        fc.integer({ min: 0, max: 120_000 }),
        fc.integer({ min: 0, max: 10_000_000 }),
        fc.option(fc.double({ min: -10, max: 200, noNaN: true }), { nil: null }),
        fc.integer({ min: 0, max: 1_000_000 }),
        fc.double({ min: 0, max: 0.999, noNaN: true }),
        (intervalMs, extra, elapsedMs, progress, previousMs, unit) => {
          const maxIntervalMs = intervalMs + extra
          const delay = nextPollDelay({ intervalMs, maxIntervalMs, elapsedMs, progress, previousMs, unit })
          expect(delay).toBeGreaterThanOrEqual(intervalMs)
          expect(delay).toBeLessThanOrEqual(maxIntervalMs)
        }
      )
    )
  })

  it("aims just past the finish estimated from the progress so far", () => {
    // 40% after 20 s: 30 s to go; the next poll comes a little after that, capped by maxInterval.
    const delay = nextPollDelay({ intervalMs: 5000, maxIntervalMs: 60_000, elapsedMs: 20_000, progress: 40, previousMs: 5000, unit: 0 })
    expect(delay).toBeGreaterThanOrEqual(30_000)
    expect(delay).toBeLessThanOrEqual(33_000)
    expect(nextPollDelay({ intervalMs: 5000, maxIntervalMs: 30_000, elapsedMs: 20_000, progress: 40, previousMs: 5000, unit: 0 })).toBe(
      30_000
    )
  })

  it("backs off when the provider reports no progress", () => {
    const first = nextPollDelay({ intervalMs: 1000, maxIntervalMs: 30_000, elapsedMs: 0, progress: null, previousMs: 0, unit: 0 })
    const second = nextPollDelay({ intervalMs: 1000, maxIntervalMs: 30_000, elapsedMs: first, progress: null, previousMs: first, unit: 0 })
    expect(first).toBe(1000)
    expect(second).toBe(1500)
  })
})

describe("backoff", () => {
  it("is full jitter under an exponential ceiling capped by maxDelay", () => {
    expect(backoffMillis(policy, 1, 0.999)).toBe(999)
    expect(backoffMillis(policy, 3, 0.5)).toBe(2000)
    expect(backoffMillis(policy, 10, 0.999)).toBe(9990)
    expect(backoffMillis(policy, 2, 0)).toBe(0)
  })
})

describe("the shared request gate", () => {
  it.effect("spaces requests at the configured rate", () =>
    Effect.gen(function* () {
      const gate = yield* gateAt(2)
      const started = yield* Ref.make<Array<number>>([])
      const fiber = yield* Effect.fork(
        Effect.forEach(
          [1, 2, 3, 4],
          () =>
            Effect.zipRight(
              gate.take("status"),
              Effect.flatMap(TestClock.currentTimeMillis, (t) => Ref.update(started, (s) => [...s, t]))
            ),
          {
            concurrency: "unbounded"
          }
        )
      )
      yield* TestClock.adjust("5 seconds")
      yield* Fiber.join(fiber)
      expect(yield* Ref.get(started)).toEqual([0, 500, 1000, 1500])
    })
  )

  it.effect("a pause holds every request until it ends", () =>
    Effect.gen(function* () {
      const gate = yield* gateAt(100)
      yield* gate.pauseUntil(3000)
      const fiber = yield* Effect.fork(Effect.zipRight(gate.take("status"), TestClock.currentTimeMillis))
      yield* TestClock.adjust("2999 millis")
      expect(fiber.unsafePoll()).toBeNull()
      yield* TestClock.adjust("1 millis")
      expect(yield* Fiber.join(fiber)).toBe(3000)
    })
  )
})

describe("retrying a step", () => {
  const run = (step: "submit" | "poll", outcomes: ReadonlyArray<MirageError | "ok">, retryPolicy = policy) =>
    Effect.gen(function* () {
      const gate = yield* gateAt(1000)
      const notices: Array<RetryNotice> = []
      const calls = yield* Ref.make(0)
      const fiber = yield* Effect.fork(
        retrying({
          step,
          kind: step === "submit" ? "generation" : "status",
          policy: retryPolicy,
          gate,
          onRetry: (n) => Effect.sync(() => notices.push(n)),
          attempt: () =>
            Effect.flatMap(
              Ref.getAndUpdate(calls, (c) => c + 1),
              (c) => {
                const outcome = outcomes[Math.min(c, outcomes.length - 1)]!
                return outcome === "ok" ? Effect.succeed("done") : Effect.fail(outcome)
              }
            )
        }).pipe(Effect.either)
      )
      yield* TestClock.adjust("10 minutes")
      return { result: yield* Fiber.join(fiber), calls: yield* Ref.get(calls), notices, pausedUntil: yield* gate.pausedUntil }
    })

  it.effect("never retries a 422", () =>
    Effect.gen(function* () {
      const { result, calls } = yield* run("submit", [new ValidationFailed({ operation: "createVideo", issues: [] })])
      expect(result._tag).toBe("Left")
      expect(calls).toBe(1)
    })
  )

  it.effect("retries 5xx and resets up to the attempts, and flags a submit's unknown outcome", () =>
    Effect.gen(function* () {
      const reset = new TransportError({ operation: "createVideo", reason: "socket hang up", bodySent: true })
      const { result, calls, notices } = yield* run("submit", [reset, new ServerError({ operation: "createVideo", status: 503 }), "ok"])
      expect(Either.getOrUndefined(result)).toBe("done")
      expect(calls).toBe(3)
      expect(notices.map((n) => n.unknownOutcome)).toEqual([true, true])
      const polls = yield* run("poll", [new ServerError({ operation: "getVideo", status: 500 }), "ok"])
      expect(polls.notices.map((n) => n.unknownOutcome)).toEqual([false])
    })
  )

  it.effect("a refused connection is a safe retry; the attempts are bounded", () =>
    Effect.gen(function* () {
      const refused = new TransportError({ operation: "createVideo", reason: "ECONNREFUSED", bodySent: false })
      const { result, calls, notices } = yield* run("submit", [refused])
      expect(result._tag).toBe("Left")
      expect(calls).toBe(policy.attempts)
      expect(notices.every((n) => !n.unknownOutcome)).toBe(true)
    })
  )

  it.effect("a 429 is no failure: Retry-After holds the request's kind back, and no attempt is spent", () =>
    Effect.gen(function* () {
      const limited = (s: number) => new RateLimited({ operation: "getVideo", retryAfter: Duration.seconds(s) })
      const { result, calls, notices } = yield* run("poll", [limited(3), limited(120), limited(1), limited(1), limited(1), "ok"])
      expect(Either.getOrUndefined(result)).toBe("done")
      // Five refusals, more than the 4 attempts: none of them counted.
      expect(calls).toBe(6)
      expect(notices.map((n) => n.attempt)).toEqual([1, 1, 1, 1, 1])
      expect(notices.map((n) => n.delayMs).slice(0, 2)).toEqual([3000, 120_000])
      expect(notices.every((n) => n.throttledUntil !== undefined)).toBe(true)
    })
  )

  it.effect("an outage shorter than the patience costs the step nothing; a longer one fails it", () =>
    Effect.gen(function* () {
      const refused = new TransportError({ operation: "getVideo", reason: "ECONNREFUSED", bodySent: false })
      const patient = { ...policy, patience: Duration.minutes(2) }
      // A minute of refusals (attempts 1 s apart at most 10 s): more than 4 attempts, then the API is back.
      const outcomes = [...Array.from({ length: 12 }, () => refused), "ok" as const]
      const { result, calls } = yield* run("poll", outcomes, patient)
      expect(Either.getOrUndefined(result)).toBe("done")
      expect(calls).toBe(13)
      const forever = yield* run("poll", [refused], patient)
      expect(forever.result._tag).toBe("Left")
      // Capped backoff (≤ 10 s) for 2 minutes: at least a dozen tries, not the 4 attempts alone.
      expect(forever.calls).toBeGreaterThan(12)
    })
  )
})

describe("quota pacing", () => {
  it("each window gets 2 % more, and at least 250 ms: a short window must absorb a request's absolute lateness", () => {
    expect(paddedSpacingMs(perMinute(2))).toBe(30_600)
    expect(paddedSpacingMs(perMinute(100))).toBe(612)
    // 5 a second: 2 % would be 4 ms a request, less than a busy machine's lateness.
    expect(paddedSpacingMs({ count: 5, perMs: 1000 })).toBe(250)
  })

  it.effect("generation requests start a quota spacing apart (2 a minute: 30.6 s with the margin)", () =>
    Effect.gen(function* () {
      const gate = yield* gateAt(100, publishedQuotas)
      const started = yield* Ref.make<Array<number>>([])
      const fiber = yield* Effect.fork(
        Effect.forEach(
          [1, 2, 3],
          () =>
            Effect.zipRight(
              gate.take("generation"),
              Effect.flatMap(TestClock.currentTimeMillis, (t) => Ref.update(started, (s) => [...s, t]))
            ),
          {
            concurrency: "unbounded"
          }
        )
      )
      yield* TestClock.adjust("2 minutes")
      yield* Fiber.join(fiber)
      expect(yield* Ref.get(started)).toEqual([0, 30_600, 61_200])
      // Other kinds are not held back by the generation quota.
      const status = yield* Effect.fork(Effect.zipRight(gate.take("status"), TestClock.currentTimeMillis))
      yield* TestClock.adjust("1 second")
      expect(yield* Fiber.join(status)).toBeLessThan(121_000)
    })
  )

  it.effect("refusals in a row double the wait, from the next slot up to five minutes; an accepted request resets it", () =>
    Effect.gen(function* () {
      const gate = yield* gateAt(100, publishedQuotas)
      const waits: Array<number> = []
      for (let i = 0; i < 6; i++) {
        const now = yield* TestClock.currentTimeMillis
        waits.push((yield* gate.refused("generation", undefined)) - now)
      }
      expect(waits).toEqual([30_600, 61_200, 122_400, 244_800, 300_000, 300_000])
      yield* gate.accepted("generation")
      yield* TestClock.adjust("10 minutes")
      const now = yield* TestClock.currentTimeMillis
      expect((yield* gate.refused("generation", undefined)) - now).toBe(30_600)
    })
  )
})
