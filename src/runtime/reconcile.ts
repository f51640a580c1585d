/**
 * An unknown submit outcome (the request reached the provider, the answer was lost) settled by
 * looking: list recent videos, newest first, and adopt one created within the submit's time
 * window with the job's model that no other job has claimed. Only an unambiguous match is
 * adopted; anything else means submitting again, recorded as a possible duplicate. Adopting the
 * wrong video would put someone else's face on an output, which is worse than paying twice.
 */
import { Chunk, Effect, Option, Stream } from "effect"
import { MirageClient } from "../mirage/MirageClient.ts"
import type { ApiError } from "../mirage/MirageError.ts"
import type { Video } from "../mirage/schemas.ts"

/** The provider's clock may differ from ours; `created_at` is in whole seconds. */
const skewMs = 2000

export interface ReconcileWindow {
  /** When the submit was announced (epoch ms). */
  readonly from: number
  /** When its outcome became unknown (epoch ms). */
  readonly until: number
  /** What a video of this submit looks like (its model, or the video it captions). */
  readonly matches: (video: Video) => boolean
  /** Video ids already known to belong to a job. */
  readonly claimed: { readonly has: (videoId: string) => boolean }
}

/**
 * Videos this submit could have made. Whatever their status: a lost submit's render may already
 * have FAILED (adopted, the poll then resubmits or fails the job with the provider's reason —
 * not a duplicate), and a failed video of another submit still makes a match ambiguous.
 */
export const candidatesIn = (videos: ReadonlyArray<Video>, window: ReconcileWindow): ReadonlyArray<Video> =>
  videos.filter((video) => inWindow(video.created_at, window) && window.matches(video) && !window.claimed.has(video.id))

/** True when a video created at `createdAtSeconds` could belong to a submit of this window. */
export const inWindow = (createdAtSeconds: number, window: { readonly from: number; readonly until: number }) =>
  createdAtSeconds * 1000 >= window.from - skewMs && createdAtSeconds * 1000 <= window.until + skewMs

export interface Adoption {
  /** The one video this submit made, when it can be told apart. */
  readonly adopt: Option.Option<Video>
  /** Every video it could have made (several, or one another lost submit could have made: none adopted). */
  readonly candidates: ReadonlyArray<Video>
}

/**
 * The rule: adopt exactly one candidate, and only when no other submit whose outcome is also
 * unknown (`others`) could have made it.
 */
export const chooseAdoption = (
  videos: ReadonlyArray<Video>,
  window: ReconcileWindow,
  others: ReadonlyArray<{ readonly from: number; readonly until: number }>
): Adoption => {
  const candidates = candidatesIn(videos, window)
  const only = candidates.length === 1 ? candidates[0] : undefined
  if (!only || others.some((other) => inWindow(only.created_at, other))) return { adopt: Option.none(), candidates }
  return { adopt: Option.some(only), candidates }
}

/** Lists the provider's videos back to the window's start (newest first) and applies the rule. */
export const findSubmittedVideo = (
  window: ReconcileWindow,
  others: ReadonlyArray<{ readonly from: number; readonly until: number }> = []
): Effect.Effect<Adoption, ApiError, MirageClient> =>
  Effect.gen(function* () {
    const client = yield* MirageClient
    const recent = yield* client.listVideos({ order: "desc" }).pipe(
      Stream.takeWhile((video) => video.created_at * 1000 >= window.from - skewMs),
      Stream.runCollect
    )
    return chooseAdoption(Chunk.toReadonlyArray(recent), window, others)
  })
