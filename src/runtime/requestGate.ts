/**
 * The gate every request of a run passes before it is sent:
 * - the run's own rate (`requestsPerSecond`, a small burst allowed), shared by all requests;
 * - the provider's quota for the request's kind (2 generations a minute, …): requests of a kind
 *   start at least one quota spacing apart, on this key across every process of this machine
 *   (the `QuotaLedger`), so alone on a key no request is refused;
 * - pauses: a 429 pushes its kind back (the server's `Retry-After`, else the quota's next slot,
 *   doubling while the provider keeps refusing: someone else shares the key), and an outage
 *   pauses everything while one request at a time probes the API.
 *
 * Hand-rolled on `Clock` and `Ref` rather than Effect's `RateLimiter` because that one cannot be
 * paused from outside; being clock-driven, it runs under `TestClock` in tests.
 */
import { Clock, Effect, Ref } from "effect"
import type { Quotas, Rate, RequestKind } from "../mirage/quotas.ts"
import { spacingMargin, type QuotaLedger, unsharedQuotaLedger } from "../state/quotaLedger.ts"

export interface RequestGate {
  /** Waits for this request's turn. */
  readonly take: (kind: RequestKind) => Effect.Effect<void>
  /**
   * A 429 for `kind`: its next request waits for `retryAfterMs` when the server named it, else
   * for the quota's next slot, doubled for each refusal in a row (at most `maxRefusalWaitMs`).
   * Answers the epoch millis until which the kind is held back.
   */
  readonly refused: (kind: RequestKind, retryAfterMs: number | undefined) => Effect.Effect<number>
  /** A request of `kind` was accepted: the refusals in a row start again from none. */
  readonly accepted: (kind: RequestKind) => Effect.Effect<void>
  /** Nobody starts a request before `untilMs` (epoch millis). Extends, never shortens, a pause. */
  readonly pauseUntil: (untilMs: number) => Effect.Effect<void>
  /** Epoch millis until which the whole gate is paused (0 when it is not). */
  readonly pausedUntil: Effect.Effect<number>
}

/**
 * The margin a quota's window gets: 2 % of it, and never less than this many milliseconds. A
 * request leaves the gate, is built (files stat'ed) and travels before the server counts it; that
 * lateness is absolute (tens of ms, more on a busy machine), so a short window (`5/s`) needs more
 * than its 2 %.
 */
export const minWindowMarginMs = 250

/** Milliseconds between two requests at `rate`: the window, plus its margin, shared by its requests. */
export const paddedSpacingMs = (rate: Rate): number => (rate.perMs + Math.max(rate.perMs * spacingMargin, minWindowMarginMs)) / rate.count

/** The longest a run of 429s holds a kind back at once. */
export const maxRefusalWaitMs = 5 * 60_000

interface KindState {
  /** Earliest start of this kind's next request (epoch ms). */
  readonly next: number
  readonly refusals: number
}

interface GateOptions {
  readonly requestsPerSecond: number
  /** Requests the run's own rate lets through at once after a quiet moment. */
  readonly burst?: number
  readonly quotas: Quotas
  readonly ledger?: QuotaLedger
}

export const makeRequestGate = (options: GateOptions): Effect.Effect<RequestGate> =>
  Effect.gen(function* () {
    const runSpacing = 1000 / options.requestsPerSecond
    const burst = options.burst ?? 1
    const ledger = options.ledger ?? unsharedQuotaLedger
    const run = yield* Ref.make({ nextSlot: 0, pausedUntil: 0 })
    const kinds = new Map<RequestKind, { readonly state: Ref.Ref<KindState>; readonly claiming: Effect.Semaphore }>()
    const kindOf = (kind: RequestKind) =>
      Effect.gen(function* () {
        const known = kinds.get(kind)
        if (known) return known
        const made = { state: yield* Ref.make<KindState>({ next: 0, refusals: 0 }), claiming: yield* Effect.makeSemaphore(1) }
        kinds.set(kind, made)
        return made
      })
    const quotaSpacing = (kind: RequestKind) => paddedSpacingMs(options.quotas[kind])

    const sleepUntil = (at: number) => Effect.flatMap(Clock.currentTimeMillis, (now) => (at > now ? Effect.sleep(at - now) : Effect.void))

    /** The run's own rate: unused capacity accumulates up to `burst` slots, no more. */
    const runTurn = Effect.gen(function* () {
      const now = yield* Clock.currentTimeMillis
      return yield* Ref.modify(run, (s) => {
        const slot = Math.max(s.nextSlot, now - runSpacing * (burst - 1), s.pausedUntil)
        return [slot, { ...s, nextSlot: slot + runSpacing }]
      })
    })

    /** The kind's quota: one claim at a time per kind in this process, then the shared ledger. */
    const quotaTurn = (kind: RequestKind, earliest: number) =>
      Effect.gen(function* () {
        const { state, claiming } = yield* kindOf(kind)
        const spacing = quotaSpacing(kind)
        return yield* claiming.withPermits(1)(
          Effect.gen(function* () {
            const current = yield* Ref.get(state)
            const start = yield* ledger.claim(kind, spacing, Math.max(earliest, current.next))
            yield* Ref.update(state, (s) => ({ ...s, next: Math.max(s.next, start + spacing) }))
            return start
          })
        )
      })

    const take = (kind: RequestKind) =>
      Effect.gen(function* () {
        const byRun = yield* runTurn
        const start = yield* quotaTurn(kind, byRun)
        yield* sleepUntil(start)
        // A pause that began while this request waited (an outage, a 429) holds it too.
        const paused = (yield* Ref.get(run)).pausedUntil
        if (paused > start) yield* sleepUntil(paused)
      })

    return {
      take,
      refused: (kind, retryAfterMs) =>
        Effect.gen(function* () {
          const { state } = yield* kindOf(kind)
          const now = yield* Clock.currentTimeMillis
          const spacing = quotaSpacing(kind)
          return yield* Ref.modify(state, (s) => {
            const refusals = s.refusals + 1
            const wait = retryAfterMs ?? Math.min(maxRefusalWaitMs, Math.max(spacing, spacing * 2 ** (refusals - 1)))
            const until = Math.max(s.next, now + Math.max(wait, 0))
            return [until, { next: until, refusals }]
          })
        }),
      accepted: (kind) =>
        Effect.flatMap(kindOf(kind), ({ state }) => Ref.update(state, (s) => (s.refusals === 0 ? s : { ...s, refusals: 0 }))),
      pauseUntil: (untilMs) => Ref.update(run, (s) => ({ ...s, pausedUntil: Math.max(s.pausedUntil, untilMs) })),
      pausedUntil: Effect.map(Ref.get(run), (s) => s.pausedUntil)
    }
  })
