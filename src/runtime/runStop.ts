/**
 * Reasons that stop a whole run at once, rather than failing its jobs one by one: the provider
 * refused the key (every other request would be refused too), or the state folder cannot be
 * written (going on could pay for videos no record would remember). The first reason wins; the
 * run stops submitting, lets requests already sent settle, and ends with a true summary.
 */
import { Deferred, Effect, Option } from "effect"

export type RunStopReason =
  | { readonly _tag: "KeyRefused"; readonly message: string }
  | { readonly _tag: "StateUnwritable"; readonly message: string }

export interface RunStop {
  readonly stop: (reason: RunStopReason) => Effect.Effect<void>
  /** The reason, once stopped. */
  readonly reason: Effect.Effect<Option.Option<RunStopReason>>
  /** Waits for a stop. */
  readonly stopped: Effect.Effect<RunStopReason>
}

export const makeRunStop: Effect.Effect<RunStop> = Effect.map(Deferred.make<RunStopReason>(), (deferred) => ({
  stop: (reason) => Effect.asVoid(Deferred.succeed(deferred, reason)),
  reason: Effect.flatMap(Deferred.poll(deferred), Option.match({ onNone: () => Effect.succeedNone, onSome: Effect.asSome })),
  stopped: Deferred.await(deferred)
}))
