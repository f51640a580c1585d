/** The library's Promise twins: an Effect run on Node's platform, rejecting with its own typed error (not a wrapper). */
import { NodeContext } from "@effect/platform-node"
import { Effect, Either } from "effect"

export const runOnNode = <A, E>(effect: Effect.Effect<A, E, NodeContext.NodeContext>): Promise<A> =>
  Effect.runPromise(Effect.either(Effect.provide(effect, NodeContext.layer))).then((result) =>
    Either.isRight(result) ? result.right : Promise.reject(result.left)
  )
