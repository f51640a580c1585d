/**
 * Retries of one step:
 * - a 429 is the provider pacing us, never a failure: the request waits for its kind's next
 *   slot at the gate (`Retry-After` when the server names one) and is sent again, without
 *   spending an attempt;
 * - what is transient (5xx, resets, timeouts, cut-short downloads) is retried with exponential
 *   backoff and full jitter until `attempts` are spent *and* the step has been failing for
 *   `patience`: an outage of a few minutes costs no job;
 * - what cannot succeed (401/403/422, a missing file) is never retried.
 */
import { Clock, Duration, Effect, Random } from "effect"
import type { MirageError } from "../mirage/MirageError.ts"
import type { RequestKind } from "../mirage/quotas.ts"
import type { StateIoError } from "../state/journal.ts"
import type { ApiHealth } from "./apiHealth.ts"
import type { JobStep } from "./events.ts"
import { failureKind, type CorruptDownload } from "./failureKind.ts"
import type { RequestGate } from "./requestGate.ts"
import type { RunSettings } from "./runSettings.ts"

export interface RetryNotice {
  readonly step: JobStep
  /** The attempt that failed, from 1 (a 429 does not count: the attempt is tried again). */
  readonly attempt: number
  readonly delayMs: number
  readonly reason: string
  readonly unknownOutcome: boolean
  /** Set when the provider refused the request for its quota (429): epoch millis until which its kind waits. */
  readonly throttledUntil?: number
}

/** Full-jitter backoff: uniform in [0, min(maxDelay, initialDelay × 2^(attempt-1))]. */
export const backoffMillis = (policy: RunSettings["retry"], attempt: number, unit: number): number => {
  const ceiling = Math.min(Duration.toMillis(policy.maxDelay), Duration.toMillis(policy.initialDelay) * 2 ** (attempt - 1))
  return Math.round(ceiling * unit)
}

/** The longest `Retry-After` honoured as given (a larger one is a server's mistake, not a plan). */
const maxRetryAfterMs = 60 * 60_000

/** A state folder that cannot be written is not retried: it stops the run. */
type StepError = MirageError | CorruptDownload | StateIoError

/** Failures that say the API itself is not answering (as opposed to this one request failing). */
const noAnswer = (error: StepError): boolean =>
  error._tag === "TransportError" || error._tag === "ServerError" || (error._tag === "UnexpectedResponse" && error.status >= 500)

export interface RetryOptions<A, E extends StepError> {
  readonly step: JobStep
  /** The kind of request: which quota it waits for. */
  readonly kind: RequestKind
  readonly policy: RunSettings["retry"]
  readonly gate: RequestGate
  /** Told of every answer and every failure to get one (outages); default: nobody. */
  readonly health?: ApiHealth | undefined
  readonly onRetry: (notice: RetryNotice) => Effect.Effect<void>
  readonly attempt: (n: number) => Effect.Effect<A, E>
}

/** Runs `attempt(n)` (n from 1) until it succeeds or fails for good. Every try first waits its turn at the gate. */
export const retrying = <A, E extends StepError>(options: RetryOptions<A, E>): Effect.Effect<A, E> => {
  const { gate, health, policy } = options
  const answered = health ? health.answered : Effect.void
  const patienceMs = Duration.toMillis(policy.patience)
  const loop = (n: number, failingSince: number | undefined): Effect.Effect<A, E> =>
    gate.take(options.kind).pipe(
      Effect.zipRight(options.attempt(n)),
      Effect.tap(() => Effect.zipRight(answered, gate.accepted(options.kind))),
      Effect.catchAll((error) =>
        Effect.gen(function* () {
          const kind = failureKind(error, options.step)
          if (!noAnswer(error)) yield* answered
          if (kind._tag === "Fatal") return yield* Effect.fail(error)
          const now = yield* Clock.currentTimeMillis
          if (error._tag === "RateLimited") {
            const retryAfterMs = kind.retryAfter === undefined ? undefined : Math.min(Duration.toMillis(kind.retryAfter), maxRetryAfterMs)
            const until = yield* gate.refused(options.kind, retryAfterMs)
            yield* options.onRetry({
              step: options.step,
              attempt: n,
              delayMs: until - now,
              reason: error.message,
              unknownOutcome: false,
              throttledUntil: until
            })
            return yield* loop(n, failingSince)
          }
          const since = failingSince ?? now
          if (n >= policy.attempts && now - since >= patienceMs) return yield* Effect.fail(error)
          if (health && noAnswer(error)) yield* health.failed(error.message)
          const delayMs = backoffMillis(policy, n, yield* Random.next)
          yield* options.onRetry({ step: options.step, attempt: n, delayMs, reason: error.message, unknownOutcome: kind.unknownOutcome })
          yield* Effect.sleep(delayMs)
          return yield* loop(n + 1, since)
        })
      )
    )
  return loop(1, undefined)
}
