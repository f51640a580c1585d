import { Clock, Effect, Option, Ref } from "effect"

/**
 * The API's rate limit: at most `rps` admitted requests in any one-second window. A request over
 * the limit is refused with the whole seconds after which a slot frees up (the `Retry-After`).
 */
export interface Throttle {
  /** None: admitted (and counted); Some(seconds): refused, retry after that many seconds. */
  readonly admit: Effect.Effect<Option.Option<number>>
}

const windowMs = 1000

export const makeThrottle = (rps: number): Effect.Effect<Throttle> =>
  Effect.gen(function*() {
    if (rps <= 0) return { admit: Effect.succeed(Option.none()) }
    const limit = Math.max(1, Math.floor(rps))
    // Times of the admitted requests still inside the window, oldest first.
    const admitted = yield* Ref.make<ReadonlyArray<number>>([])
    return {
      admit: Effect.flatMap(Clock.currentTimeMillis, (now) =>
        Ref.modify(admitted, (times) => {
          const recent = times.filter((t) => t > now - windowMs)
          if (recent.length < limit) return [Option.none(), [...recent, now]]
          const oldest = recent[0] ?? now
          const seconds = Math.max(1, Math.ceil((oldest + windowMs - now) / 1000))
          return [Option.some(seconds), recent]
        }))
    }
  })
