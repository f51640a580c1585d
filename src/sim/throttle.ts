import { Clock, Effect, Option } from "effect"
import { makeSlidingWindow, retryAfterSeconds } from "./slidingWindow.ts"

/**
 * The `throttleRps` fault: at most `rps` admitted requests in any one-second window, across every
 * key (a global limit on top of the per-key quotas). A request over the limit is refused with the
 * whole seconds after which a slot frees up (the `Retry-After`).
 */
export interface Throttle {
  /** None: admitted (and counted); Some(seconds): refused, retry after that many seconds. */
  readonly admit: Effect.Effect<Option.Option<number>>
}

const windowMs = 1000

export const makeThrottle = (rps: number): Effect.Effect<Throttle> =>
  Effect.sync(() => {
    if (rps <= 0) return { admit: Effect.succeed(Option.none()) }
    const window = makeSlidingWindow(rps, windowMs)
    return {
      admit: Effect.flatMap(Clock.currentTimeMillis, (now) =>
        Effect.sync(() => {
          const waitMs = window.tryAdmit(now)
          return waitMs > 0 ? Option.some(retryAfterSeconds(waitMs)) : Option.none()
        })
      )
    }
  })
