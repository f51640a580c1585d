/**
 * Retries of one step: exponential backoff with full jitter for what is transient, a server's
 * `Retry-After` honoured (up to `maxDelay`) and shared with the whole run through the gate,
 * never a retry of what cannot succeed (401/403/422, a missing file).
 */
import { Clock, Duration, Effect, Random } from "effect"
import type { MirageError } from "../mirage/MirageError.ts"
import type { JobStep } from "./events.ts"
import { failureKind, type CorruptDownload } from "./failureKind.ts"
import type { RequestGate } from "./requestGate.ts"
import type { RunSettings } from "./runSettings.ts"

export interface RetryNotice {
  readonly step: JobStep
  /** The attempt that failed, from 1. */
  readonly attempt: number
  readonly delayMs: number
  readonly reason: string
  readonly unknownOutcome: boolean
  /** Set when the provider's Retry-After paused the whole run: epoch millis of the pause's end. */
  readonly pausedUntil?: number
}

/** Full-jitter backoff: uniform in [0, min(maxDelay, initialDelay × 2^(attempt-1))]. */
export const backoffMillis = (policy: RunSettings["retry"], attempt: number, unit: number): number => {
  const ceiling = Math.min(Duration.toMillis(policy.maxDelay), Duration.toMillis(policy.initialDelay) * 2 ** (attempt - 1))
  return Math.round(ceiling * unit)
}

type StepError = MirageError | CorruptDownload

/**
 * Runs `attempt(n)` (n from 1) until it succeeds, fails for good, or `policy.attempts` are spent.
 * Every attempt first waits its turn at the shared gate.
 */
export const retrying = <A, E extends StepError>(options: {
  readonly step: JobStep
  readonly policy: RunSettings["retry"]
  readonly gate: RequestGate
  readonly onRetry: (notice: RetryNotice) => Effect.Effect<void>
  readonly attempt: (n: number) => Effect.Effect<A, E>
}): Effect.Effect<A, E> => {
  const loop = (n: number): Effect.Effect<A, E> =>
    options.gate.take.pipe(
      Effect.zipRight(options.attempt(n)),
      Effect.catchAll((error) => {
        const kind = failureKind(error, options.step)
        if (kind._tag === "Fatal" || n >= options.policy.attempts) return Effect.fail(error)
        return Effect.gen(function* () {
          const maxMs = Duration.toMillis(options.policy.maxDelay)
          let delayMs: number
          let pausedUntil: number | undefined
          if (kind.retryAfter !== undefined) {
            delayMs = Math.min(Duration.toMillis(kind.retryAfter), maxMs)
            // The provider asked everyone to wait: pause the whole run, not only this request.
            pausedUntil = (yield* Clock.currentTimeMillis) + delayMs
            yield* options.gate.pauseUntil(pausedUntil)
          } else {
            delayMs = backoffMillis(options.policy, n, yield* Random.next)
          }
          yield* options.onRetry({
            step: options.step,
            attempt: n,
            delayMs,
            reason: error.message,
            unknownOutcome: kind.unknownOutcome,
            ...(pausedUntil !== undefined ? { pausedUntil } : {})
          })
          yield* Effect.sleep(delayMs)
          return yield* loop(n + 1)
        })
      })
    )
  return loop(1)
}
