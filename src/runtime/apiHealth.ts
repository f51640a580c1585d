/**
 * Whether the API is answering at all. One failed request is a fault of that request (its step
 * retries it); many in a row with no answer in between is an outage: the whole run then waits,
 * probing with capped backoff, instead of every job spending its attempts on a dead connection.
 * Any answer (a 4xx included) ends the outage.
 */
import { Clock, Effect, Ref } from "effect"
import type { RequestGate } from "./requestGate.ts"

export interface ApiHealth {
  /** A request got an answer from the API. */
  readonly answered: Effect.Effect<void>
  /**
   * A request got no answer (connection refused, reset, timeout) or a 5xx. During an outage the
   * gate pauses until the next probe; answers that pause, when there is one.
   */
  readonly failed: (reason: string) => Effect.Effect<Outage | undefined>
}

export interface Outage {
  readonly reason: string
  /** When the first of the failures in a row happened (epoch ms). */
  readonly since: number
  /** When the next request may probe the API (epoch ms). */
  readonly retryAt: number
}

/** Failures in a row, with no answer between them and over at least `outageAfterMs`, that make an outage. */
export const outageAfterFailures = 5
export const outageAfterMs = 2000
/** Probes during an outage: 1 s, 2 s, 4 s … at most 30 s apart. */
const probeBaseMs = 1000
export const probeMaxMs = 30_000

interface HealthState {
  readonly failures: number
  /** First failure of the current run of failures. */
  readonly since: number
  /** End of the current probe interval (0: no outage). */
  readonly retryAt: number
  /** Probe intervals so far in this outage: each doubles the next. */
  readonly probes: number
}

const healthy: HealthState = { failures: 0, since: 0, retryAt: 0, probes: 0 }

export const makeApiHealth = (
  gate: RequestGate,
  events: { readonly onOutage: (outage: Outage) => Effect.Effect<void>; readonly onRecovered: (downForMs: number) => Effect.Effect<void> }
): Effect.Effect<ApiHealth> =>
  Effect.gen(function* () {
    const state = yield* Ref.make<HealthState>(healthy)
    return {
      answered: Effect.gen(function* () {
        const before = yield* Ref.getAndUpdate(state, (s) => (s.failures === 0 ? s : healthy))
        if (before.retryAt > 0) yield* events.onRecovered((yield* Clock.currentTimeMillis) - before.since)
      }),
      failed: (reason) =>
        Effect.gen(function* () {
          const now = yield* Clock.currentTimeMillis
          const [outage, announce] = yield* Ref.modify(state, (s): readonly [readonly [Outage | undefined, boolean], HealthState] => {
            const failures = s.failures + 1
            const since = s.failures === 0 ? now : s.since
            if (failures < outageAfterFailures || now - since < outageAfterMs) return [[undefined, false], { ...s, failures, since }]
            // Within a probe interval, further failures are the requests that were already out.
            if (s.retryAt > now) return [[{ reason, since, retryAt: s.retryAt }, false], { ...s, failures, since }]
            const retryAt = now + Math.min(probeMaxMs, probeBaseMs * 2 ** Math.min(s.probes, 16))
            return [[{ reason, since, retryAt }, true], { failures, since, retryAt, probes: s.probes + 1 }]
          })
          if (outage && announce) {
            yield* gate.pauseUntil(outage.retryAt)
            yield* events.onOutage(outage)
          }
          return outage
        })
    }
  })
