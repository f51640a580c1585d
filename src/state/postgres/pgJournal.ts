/**
 * The journal in a state database: the same entries as `journal.jsonl` (state/journalEntry.ts),
 * one row each in `clapper_journal`, in order per campaign. An append that announces a remote
 * call returns once its row is committed, as the file journal's returns once synced; once one has
 * failed, every later one fails too (a journal with a hole is not a record). A long journal is
 * compacted on open, by the run that holds the campaign, into one snapshot row.
 */
import type { SqlClient, Statement } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import { Data, Deferred, Effect, Queue, Schema, type Scope } from "effect"
import { schemaProblem, StateCorrupt, type Journal, type StateIoError } from "../journal.ts"
import { isConnectionLoss } from "./pgConnection.ts"
import { applyEntry, emptyJournalState, JournalEntry, toSnapshot, type JournalState } from "../journalEntry.ts"

const decodeEntry = Schema.decodeUnknownEither(JournalEntry)

/** Compact when the journal holds this many more entries than the state it folds into (as the file journal). */
const compactionSlack = 1000

export interface LoadedPgJournal {
  readonly state: JournalState
  readonly entries: number
}

/** Folds journal rows in order; a row that is not an entry is damage, named by its place. */
const foldRows = (rows: ReadonlyArray<{ readonly seq: string; readonly entry: string }>, place: string) =>
  Effect.gen(function* () {
    const state = emptyJournalState()
    let entries = 0
    for (const row of rows) {
      const line = Number(row.seq)
      let json: unknown
      try {
        json = JSON.parse(row.entry)
      } catch {
        return yield* Effect.fail(new StateCorrupt({ file: place, line, reason: "this journal row is not valid JSON" }))
      }
      const decoded = decodeEntry(json)
      if (decoded._tag === "Left") {
        return yield* Effect.fail(
          new StateCorrupt({ file: place, line, reason: `this journal row is not a journal entry (${schemaProblem(decoded.left)})` })
        )
      }
      applyEntry(state, decoded.right)
      entries++
    }
    return { state, entries }
  })

/** Reads and folds a campaign's journal. */
export const loadPgJournal = (
  sql: SqlClient.SqlClient,
  campaign: number,
  place: string
): Effect.Effect<LoadedPgJournal, StateCorrupt | SqlError> =>
  Effect.flatMap(
    sql<{ seq: string; entry: string }>`SELECT seq, entry FROM clapper_journal WHERE campaign_id = ${campaign} ORDER BY seq`,
    (rows) => foldRows(rows, place)
  )

/**
 * What every runner recorded of these renders, folded: their rows and the rows that name no
 * render (a snapshot, the header), so a runner taking up a render sees what another left of it.
 */
export const loadPgRenders = (
  sql: SqlClient.SqlClient,
  campaign: number,
  fps: ReadonlyArray<string>,
  place: string
): Effect.Effect<JournalState, StateCorrupt | SqlError> =>
  Effect.flatMap(
    sql<{ seq: string; entry: string }>`SELECT seq, entry FROM clapper_journal
      WHERE campaign_id = ${campaign} AND (fp IS NULL OR fp IN ${sql.in(fps.length > 0 ? fps : [""])}) ORDER BY seq`,
    (rows) => Effect.map(foldRows(rows, place), (loaded) => loaded.state)
  )

/** Replaces a campaign's journal with one snapshot of `state` (in one transaction). */
export const writeSnapshot = (sql: SqlClient.SqlClient, campaign: number, state: JournalState) =>
  sql.withTransaction(
    Effect.gen(function* () {
      yield* sql`DELETE FROM clapper_journal WHERE campaign_id = ${campaign}`
      const entry = JSON.stringify({ t: "snapshot", state: toSnapshot(state) } satisfies JournalEntry)
      yield* sql`INSERT INTO clapper_journal (campaign_id, entry) VALUES (${campaign}, ${entry})`
    })
  )

/** Whether an open should compact: as the file journal, once it holds twice the entries its state needs. */
export const needsCompaction = (loaded: LoadedPgJournal) =>
  loaded.entries > 2 * (loaded.state.renders.size + loaded.state.outputs.size) + compactionSlack

/**
 * `write`, once the run holds its campaign (`held`), tried again every second while the database
 * is away: a write waits out a restart or a dropped connection instead of failing the run, and
 * what waits for it (a submit waits for its intent's record) waits too. Any other failure is
 * `toError`'s.
 */
export const whileAway = <A, E extends SqlError | LockLost | StateCorrupt>(
  held: Effect.Effect<void, StateIoError>,
  write: Effect.Effect<A, E>,
  toError: (e: E) => StateIoError
): Effect.Effect<A, StateIoError> => {
  const attempt: Effect.Effect<A, StateIoError> = Effect.zipRight(
    held,
    write.pipe(
      Effect.catchAll((e) =>
        e._tag === "LockLost" || isConnectionLoss(e) ? Effect.zipRight(Effect.sleep("1 second"), attempt) : Effect.fail(toError(e))
      )
    )
  )
  return attempt
}

/** A guarded insert wrote nothing: the run's session no longer holds its campaign (its check notices within a second). */
class LockLost extends Data.TaggedError("LockLost") {}
const lockLost = new LockLost()

interface Pending {
  readonly text: string
  readonly done: Deferred.Deferred<void, StateIoError>
}

/**
 * The journal for appending, until the scope closes: `toError` says what a failed insert means
 * (it names the database); inserts wait for `held` (the run's hold on its campaign) and out the
 * database's absences. Appends are group-committed, as the file journal's are: entries arriving
 * while an insert is under way share the next one (one multi-row insert, in order), so a 64-wide
 * run does not wait for 64 round trips in a row. An insert whose answer was lost with the
 * connection may be written twice: applying an entry twice leaves the same state (a possible
 * duplicate counts once more).
 */
export const pgJournal = (
  sql: SqlClient.SqlClient,
  campaign: number,
  state: JournalState,
  toError: (e: unknown) => StateIoError,
  held: Effect.Effect<void, StateIoError> = Effect.void,
  guard?: () => Statement.Fragment
): Effect.Effect<Journal, never, Scope.Scope> =>
  Effect.gen(function* () {
    let broken: StateIoError | undefined
    const queue = yield* Effect.acquireRelease(Queue.unbounded<Pending>(), Queue.shutdown)
    const writeBatch = Effect.gen(function* () {
      const first = yield* Queue.take(queue)
      const batch = [first, ...(yield* Queue.takeAll(queue))]
      const entries = JSON.stringify(batch.map((p) => p.text))
      // In order, and only while the run's session holds the campaign (none written: the lock was lost; wait and try again).
      // Made at each attempt: the guard names the session that holds the campaign now.
      const insert = Effect.flatMap(
        Effect.suspend(
          () => sql<{ n: number }>`WITH written AS (
            INSERT INTO clapper_journal (campaign_id, entry, fp)
            SELECT ${campaign}, e.entry, e.entry::jsonb->>'fp' FROM jsonb_array_elements_text(${entries}::jsonb) WITH ORDINALITY AS e(entry, n)
            WHERE ${guard?.() ?? sql.literal("TRUE")} ORDER BY e.n
            RETURNING 1)
          SELECT count(*)::int AS n FROM written`
        ),
        (rows) => (Number(rows[0]?.n) === batch.length ? Effect.void : Effect.fail(lockLost))
      )
      const result = broken ? Effect.fail(broken) : whileAway(held, insert, toError)
      const outcome = yield* Effect.either(result)
      if (outcome._tag === "Left") broken ??= outcome.left
      for (const p of batch) {
        yield* outcome._tag === "Right" ? Deferred.succeed(p.done, undefined) : Deferred.fail(p.done, outcome.left)
      }
    })
    yield* Effect.forkScoped(Effect.forever(writeBatch))
    // What is still queued when the run ends is written too.
    yield* Effect.addFinalizer(() =>
      Effect.gen(function* () {
        while ((yield* Queue.size(queue)) > 0) yield* writeBatch
      })
    )
    const journal: Journal = {
      state,
      warnings: [],
      append: (entry) =>
        Effect.gen(function* () {
          if (broken) return yield* Effect.fail(broken)
          applyEntry(state, entry)
          const done = yield* Deferred.make<void, StateIoError>()
          yield* Queue.offer(queue, { text: JSON.stringify(entry), done })
          yield* Deferred.await(done)
        })
    }
    return journal
  })
