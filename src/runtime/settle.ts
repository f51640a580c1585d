/**
 * A request that creates something at the provider, and Ctrl-C: if the run is interrupted while
 * the request is out, it may still finish for `settleTime`, so what it created is recorded as in
 * flight instead of lost. Past that, the request is cut and its outcome is unknown.
 */
import { type Duration, Effect, type Exit, Fiber } from "effect"

export const settleOnInterrupt = <A, E, R>(
  request: Effect.Effect<A, E, R>,
  options: {
    readonly settleTime: Duration.DurationInput
    /** The request ended (answered or failed) within the settle time after an interruption. */
    readonly settled: (exit: Exit.Exit<A, E>) => Effect.Effect<void>
    /** The request was still out when the settle time ran out. */
    readonly lost: Effect.Effect<void>
  }
): Effect.Effect<A, E, R> =>
  Effect.uninterruptibleMask((restore) =>
    Effect.gen(function* () {
      const fiber = yield* Effect.fork(restore(request))
      return yield* restore(Fiber.join(fiber)).pipe(
        Effect.onInterrupt(() =>
          Fiber.await(fiber).pipe(
            Effect.timeout(options.settleTime),
            Effect.flatMap(options.settled),
            Effect.catchTag("TimeoutException", () => Effect.zipRight(Fiber.interrupt(fiber), options.lost))
          )
        )
      )
    })
  )
