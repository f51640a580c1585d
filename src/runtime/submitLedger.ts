/**
 * The submit ledger: which videos belong to a job, which submits have an unknown outcome, and
 * which time windows belong to nobody. Its one invariant, kept here and nowhere else: while a
 * reconciliation reads the provider's list, every submit of this run is answered (its video
 * claimed) or unknown (its window unresolved), never in between — submits hold one permit each,
 * a listing holds them all. A video that another lost submit may have made is never adopted:
 * that would put someone else's face on an output.
 */
import { Chunk, Clock, Effect, HashMap, HashSet, Ref } from "effect"
import type { MirageClient } from "../mirage/MirageClient.ts"
import type { ApiError } from "../mirage/MirageError.ts"
import type { Video } from "../mirage/schemas.ts"
import type { SubmitWindow } from "../state/journalEntry.ts"
import { findSubmittedVideo, type Adoption } from "./reconcile.ts"

export interface SubmitLedger {
  /**
   * Sends one submit request. Before its permit is released, an answer's video is claimed, and a
   * failure whose outcome `mayHaveCreated` says is unknown marks the job's window unresolved.
   */
  readonly submit: <E>(
    job: string,
    intentAt: number,
    request: Effect.Effect<Video, E>,
    mayHaveCreated: (error: E) => boolean
  ) => Effect.Effect<Video, E>
  /** Lists the provider's videos while no submit is in flight and applies the adoption rule to `job`'s lost submit. */
  readonly look: (job: string, window: SubmitWindow, matches: (video: Video) => boolean) => Effect.Effect<Adoption, ApiError, MirageClient>
  /** `videoId` belongs to a job: it is never adopted by another. */
  readonly claim: (videoId: string) => Effect.Effect<void>
  /**
   * `job`'s lost submit is settled: its candidates that were not adopted belong to nobody from now
   * on, and `orphan` (when it could not be settled) is a window in which no video is ever adopted.
   */
  readonly settle: (job: string, candidates: ReadonlyArray<Video>, orphan: SubmitWindow | undefined) => Effect.Effect<void>
}

/** Permits of the submit gate: more than submits can ever be in flight at once. */
const permits = 100_000

/** What other runners of the campaign hold, read at the time of a look: their videos and their unanswered submits' windows. */
export type Elsewhere = (
  job: string
) => Effect.Effect<{ readonly claimed: ReadonlySet<string>; readonly windows: ReadonlyArray<SubmitWindow> }>

export const makeSubmitLedger = (known: {
  /** Video ids the journal knows of. */
  readonly claimed: Iterable<string>
  /** Windows of earlier lost submits resubmitted unmatched. */
  readonly orphanWindows: Iterable<SubmitWindow>
  /** Submits an earlier run left unanswered, by job. */
  readonly unresolved: Iterable<readonly [string, SubmitWindow]>
  /** Other runners' submits, when several work the campaign (their submits are not held by this ledger's permits). */
  readonly elsewhere?: Elsewhere
}): Effect.Effect<SubmitLedger> =>
  Effect.gen(function* () {
    // Persistent sets and maps: an update shares structure, where a copied Set per video would
    // make a 10,000-job run quadratic.
    const claimed = yield* Ref.make(HashSet.fromIterable(known.claimed))
    const unresolved = yield* Ref.make(HashMap.fromIterable(known.unresolved))
    const orphans = yield* Ref.make(Chunk.fromIterable(known.orphanWindows))
    const gate = yield* Effect.makeSemaphore(permits)
    const claim = (videoId: string) => Ref.update(claimed, HashSet.add(videoId))

    return {
      submit: (job, intentAt, request, mayHaveCreated) =>
        gate.withPermits(1)(
          request.pipe(
            Effect.tap((video) => claim(video.id)),
            Effect.tapError((error) =>
              mayHaveCreated(error)
                ? Effect.flatMap(Clock.currentTimeMillis, (until) => Ref.update(unresolved, HashMap.set(job, { from: intentAt, until })))
                : Effect.void
            )
          )
        ),
      look: (job, window, matches) =>
        gate.withPermits(permits)(
          Effect.gen(function* () {
            const taken = yield* Ref.get(claimed)
            const away = known.elsewhere ? yield* known.elsewhere(job) : { claimed: new Set<string>(), windows: [] }
            const others = [
              ...HashMap.values(HashMap.remove(yield* Ref.get(unresolved), job)),
              ...(yield* Ref.get(orphans)),
              ...away.windows
            ]
            const isClaimed = (id: string) => HashSet.has(taken, id) || away.claimed.has(id)
            return yield* findSubmittedVideo({ ...window, matches, claimed: { has: isClaimed } }, others)
          })
        ),
      claim,
      settle: (job, candidates, orphan) =>
        Effect.all(
          [
            Ref.update(unresolved, HashMap.remove(job)),
            Ref.update(claimed, (set) => candidates.reduce((s, video) => HashSet.add(s, video.id), set)),
            orphan ? Ref.update(orphans, Chunk.append(orphan)) : Effect.void
          ],
          { discard: true }
        )
    }
  })
