import { Effect } from "effect"
import { randomBytes, randomUUID } from "node:crypto"

const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

/**
 * Opaque random tokens. Ids are deliberately not drawn from the fault seed: a restarted simulator
 * with the same seed must not hand out the ids of an earlier run, which a resuming client may
 * still hold in its journal.
 */
export const randomToken = (length: number): Effect.Effect<string> =>
  Effect.sync(() => {
    const bytes = randomBytes(length)
    let token = ""
    for (const byte of bytes) token += alphabet[byte % alphabet.length]
    return token
  })

/** `video_<20 random characters>`, the shape of the API's video ids. */
export const newVideoId: Effect.Effect<string> = Effect.map(randomToken(20), (token) => `video_${token}`)

/** Text overlay jobs are identified by UUIDs in the API description's example. */
export const newOverlayId: Effect.Effect<string> = Effect.sync(() => randomUUID())
