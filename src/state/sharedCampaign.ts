/**
 * A campaign worked by several runners at once (`clapper worker`): what a runner needs of the
 * others through a shared store. Each render is taken up by one runner at a time (the durable
 * engine decides which), and the runner that takes it up reads first what the others recorded of
 * it: a render whose runner died goes on from its last record, never from the start.
 */
import type { SqlClient } from "@effect/sql"
import type { Effect } from "effect"
import type { StateIoError } from "./journal.ts"
import type { SubmitWindow } from "./journalEntry.ts"

/** What every runner's records say of submits, for a reconciliation: never adopt another's video. */
export interface CampaignSubmits {
  /** Every video id any render holds or held. */
  readonly claimed: ReadonlySet<string>
  /** Submits announced whose answer is not recorded (in flight at another runner, or lost with it), by job. */
  readonly unanswered: ReadonlyArray<{ readonly job: string; readonly intentAt: number }>
  /** Windows of lost submits resubmitted unmatched. */
  readonly orphanWindows: ReadonlyArray<SubmitWindow>
}

export interface SharedCampaign {
  /** The campaign's key in the store (the same from every checkout of the project). */
  readonly campaign: string
  /** The session of workers this runner joined: renders are keyed by it, so a later session takes up what an earlier one left. */
  readonly epoch: number
  /** The store's database: the durable engine keeps its tables there too. */
  readonly sql: SqlClient.SqlClient
  /** Folds into this run's journal what any runner recorded of these renders (by fingerprint); waits out the database's absence. */
  readonly refresh: (fingerprints: ReadonlyArray<string>) => Effect.Effect<void, StateIoError>
  /** What every runner recorded of submits, read now. */
  readonly submits: Effect.Effect<CampaignSubmits, StateIoError>
}
