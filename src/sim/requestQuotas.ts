import { Clock, Effect, Option } from "effect"
import type { Quotas, RequestKind } from "../mirage/quotas.ts"
import { makeSlidingWindow, type SlidingWindow } from "./slidingWindow.ts"

/**
 * The provider's quotas as the simulator enforces them: per API key (an organisation) and per kind
 * of request, each a sliding window of `count` admitted requests per `perMs`. Only admitted
 * requests count, so a client that keeps retrying too early is refused until it waits.
 */
export interface RequestQuotas {
  /** None: admitted (and counted); Some(ms): refused, a slot frees in that many milliseconds. */
  readonly admit: (apiKey: string, kind: RequestKind) => Effect.Effect<Option.Option<number>>
}

export const makeRequestQuotas = (quotas: Quotas): Effect.Effect<RequestQuotas> =>
  Effect.sync(() => {
    // One window per key and kind, made on first use: any non-empty key is an organisation.
    const windows = new Map<string, SlidingWindow>()
    const windowOf = (apiKey: string, kind: RequestKind): SlidingWindow => {
      const id = `${kind}\u0000${apiKey}`
      const found = windows.get(id)
      if (found !== undefined) return found
      const made = makeSlidingWindow(quotas[kind].count, quotas[kind].perMs)
      windows.set(id, made)
      return made
    }
    return {
      admit: (apiKey, kind) =>
        Effect.flatMap(Clock.currentTimeMillis, (now) =>
          Effect.sync(() => {
            const waitMs = windowOf(apiKey, kind).tryAdmit(now)
            return waitMs > 0 ? Option.some(waitMs) : Option.none()
          })
        )
    }
  })
