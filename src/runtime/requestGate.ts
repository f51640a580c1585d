/**
 * The one rate limiter every request of a run passes through: requests start at most
 * `requestsPerSecond` apart on average (a small burst allowed), and a 429's `Retry-After` pauses
 * the gate for everyone, not only for the request that got it.
 *
 * Hand-rolled on `Clock` and `Ref` rather than Effect's `RateLimiter` because that one cannot be
 * paused from outside; being clock-driven, it runs under `TestClock` in tests.
 */
import { Clock, Effect, Ref } from "effect"

export interface RequestGate {
  /** Waits for this request's turn. */
  readonly take: Effect.Effect<void>
  /** Nobody starts a request before `untilMs` (epoch millis). Extends, never shortens, a pause. */
  readonly pauseUntil: (untilMs: number) => Effect.Effect<void>
  /** Epoch millis until which the gate is paused (0 when it is not). */
  readonly pausedUntil: Effect.Effect<number>
}

interface GateState {
  /** Earliest start of the next request, in epoch millis. */
  readonly nextSlot: number
  readonly pausedUntil: number
}

export const makeRequestGate = (requestsPerSecond: number, burst = 1): Effect.Effect<RequestGate> =>
  Effect.gen(function* () {
    const spacing = 1000 / requestsPerSecond
    const state = yield* Ref.make<GateState>({ nextSlot: 0, pausedUntil: 0 })
    const take = Effect.gen(function* () {
      const now = yield* Clock.currentTimeMillis
      const start = yield* Ref.modify(state, (s) => {
        // Unused capacity accumulates up to `burst` slots, no more.
        const slot = Math.max(s.nextSlot, now - spacing * (burst - 1), s.pausedUntil)
        return [slot, { ...s, nextSlot: slot + spacing }]
      })
      if (start > now) yield* Effect.sleep(start - now)
    })
    return {
      take,
      pauseUntil: (untilMs) => Ref.update(state, (s) => ({ ...s, pausedUntil: Math.max(s.pausedUntil, untilMs) })),
      pausedUntil: Effect.map(Ref.get(state), (s) => s.pausedUntil)
    }
  })
