/**
 * The state port (state/StateStore.ts) on a PostgreSQL database: the journal, the lock file's
 * entries and the runner lock live in the database, so a campaign outlives the machine that ran
 * it, any machine reads its status, and a run on another machine goes on from where it stopped
 * without paying for anything twice. What belongs to one machine stays in `.clapper/<name>/`
 * beside the pipeline, as with the file store: the cache of generated speech and intermediate
 * videos, and the run history of the runs made there (`clapper log`, the report).
 *
 * A campaign is its pipeline's name and identity: the pipeline file's path in its project (the
 * nearest folder above it holding .git or package.json), so two pipelines of one name in one
 * database are two campaigns. The first run of a campaign on a database that has never seen it
 * imports what the file store holds beside the pipeline (its journal and lock file): a campaign
 * started on one machine's files goes on in the database without resubmitting anything.
 *
 * The lock file beside the pipeline is still written by the run (from the database's entries, by
 * the file store's writer: the same bytes), and `clapper lock` writes it on demand on any machine.
 */
import { Path } from "@effect/platform"
import { NodeFileSystem, NodePath } from "@effect/platform-node"
import type { SqlClient } from "@effect/sql"
import { Clock, Effect, Layer } from "effect"
import type { SqlError } from "@effect/sql/SqlError"
import { readJournal, StateIoError, type Journal, type StateCorrupt } from "../journal.ts"
import { claimedVideoIds, type JournalState } from "../journalEntry.ts"
import { recordedStart } from "../renderStart.ts"
import type { SharedCampaign } from "../sharedCampaign.ts"
import { lockFilePath, readLockFile, type LockEntry } from "../lockFile.ts"
import { listRuns, openRunHistory, readRunEvents } from "../runHistory.ts"
import { makeStateRecorder } from "../stateRecorder.ts"
import { stateDir } from "../stateDir.ts"
import { StateStore, type OpenOptions, type RunState, type StateRef, type StateStoreService, type StoredState } from "../StateStore.ts"
import { makePgConnection, stateDbError } from "./pgConnection.ts"
import { loadPgJournal, loadPgRenders, needsCompaction, pgJournal, whileAway, writeSnapshot } from "./pgJournal.ts"
import { dropPgOutputsNotIn, loadPgLock, putPgOutput, putPgOutputs } from "./pgOutputs.ts"
import { makePgQuotaLedger } from "./pgQuotaLedger.ts"
import { acquirePgRunnerLock, clearPgRunnerRow, inspectPgRunnerLock, type RunLease } from "./pgRunnerLock.ts"
import { campaignForRun, campaignIsEmpty, findCampaign, prepareStore, type Refusal } from "./pgSchema.ts"
import { parseStateUrl, type PostgresLocation, type StateUrlInvalid } from "./stateUrl.ts"

/** Serialises the import of a file-store campaign (the second key is the campaign's id). */
const importLockClass = 0x434c5049

/** A damaged row read by a worker mid-run: the run cannot go on from it. */
const corruptAsIo = (e: StateCorrupt) => new StateIoError({ file: e.file, operation: "read", reason: e.message, freeBytes: undefined })

const makePostgresStore = (location: PostgresLocation) =>
  Effect.gen(function* () {
    const path = yield* Path.Path
    const connection = yield* makePgConnection(location, yield* Effect.scope)
    const readError = stateDbError(location, "read")
    const writeError = stateDbError(location, "write")
    const refused = (refusal: Refusal) =>
      new StateIoError({ file: location.described, operation: "read", reason: refusal.reason, freeBytes: undefined, fix: refusal.fix })
    const dirOf = (ref: StateRef) => stateDir(path.dirname(ref.file), ref.name, path)

    /** The connection with the tables ready (made once per process), or why not. */
    let prepared = false
    const ready = Effect.gen(function* () {
      const sql = yield* connection.client
      if (!prepared) {
        const refusal = yield* prepareStore(sql).pipe(Effect.mapError(readError))
        if (refusal) return yield* Effect.fail(refused(refusal))
        prepared = true
      }
      return sql
    })

    /** The campaign's identity: the pipeline file's path in its project, with forward slashes. */
    const identityOf = (ref: StateRef) =>
      Effect.succeed(
        path
          .relative(ref.projectRoot ?? path.dirname(ref.file), ref.file)
          .split(path.sep)
          .join("/")
      )
    const placeOf = (campaign: number) => `${location.described} (campaign ${campaign})`

    const read = (ref: StateRef) =>
      Effect.gen(function* () {
        const sql = yield* ready
        const found = yield* findCampaign(sql, ref.name, yield* identityOf(ref)).pipe(Effect.mapError(readError))
        if (found === undefined) {
          // Never run on this database: what the files beside the pipeline hold is what the first run will import.
          const journal = yield* readJournal(dirOf(ref))
          const lock = yield* readLockFile(lockFilePath(ref.file), ref.name)
          const stored: StoredState = { journal: journal.state, lock, warnings: journal.warnings }
          return stored
        }
        const journal = yield* loadPgJournal(sql, found.id, placeOf(found.id)).pipe(
          Effect.catchTag("SqlError", (e) => Effect.fail(readError(e)))
        )
        const lock = yield* loadPgLock(sql, found.id, ref.name, placeOf(found.id)).pipe(
          Effect.catchTag("SqlError", (e) => Effect.fail(readError(e)))
        )
        const stored: StoredState = { journal: journal.state, lock, warnings: [] }
        return stored
      })

    /**
     * The file store's journal and lock, written into a campaign the database holds nothing of yet
     * (also when an earlier first run died before importing); once, however many workers start at once.
     */
    const importFileState = (sql: SqlClient.SqlClient, campaign: number, ref: StateRef) =>
      Effect.gen(function* () {
        const journal = yield* readJournal(dirOf(ref))
        const lock = yield* readLockFile(lockFilePath(ref.file), ref.name)
        const outputs = Object.entries(lock.outputs)
        if (journal.entries === 0 && outputs.length === 0) return []
        const imported = yield* sql
          .withTransaction(
            Effect.gen(function* () {
              yield* sql`SELECT pg_advisory_xact_lock(${importLockClass}, ${campaign})`
              if (!(yield* campaignIsEmpty(sql, campaign))) return false
              yield* writeSnapshot(sql, campaign, journal.state)
              yield* putPgOutputs(sql, campaign, outputs)
              return true
            })
          )
          .pipe(Effect.mapError(writeError))
        if (!imported) return []
        return [
          `continued from the state files beside the pipeline: ${journal.state.renders.size} render(s) and ${outputs.length} output(s) imported into ${location.described}; the files are left as they were`
        ]
      })

    const openForRun = (ref: StateRef, options: OpenOptions) =>
      Effect.gen(function* () {
        const sql = yield* ready
        const opened = yield* campaignForRun(sql, ref.name, yield* identityOf(ref)).pipe(Effect.mapError(writeError))
        if ("refusal" in opened) return yield* Effect.fail(refused(opened.refusal))
        const campaign = opened.id
        const place = placeOf(campaign)
        const shared = options.shared === true
        const lease = yield* acquirePgRunnerLock(sql, campaign, {
          mode: shared ? "shared" : "exclusive",
          notice: options.notice ?? (() => Effect.void),
          command: options.command,
          pipeline: options.pipeline,
          database: location.described,
          ...(options.wait ? { waiting: options.wait.waiting } : {})
        }).pipe(Effect.catchTag("SqlError", (e) => Effect.fail(writeError(e))))
        // A campaign the database holds nothing of yet takes what the files beside the pipeline hold
        // (also when an earlier first run died before importing).
        const empty = yield* campaignIsEmpty(sql, campaign).pipe(Effect.mapError(readError))
        const imported = empty ? yield* importFileState(sql, campaign, ref) : []
        let loaded = yield* loadPgJournal(sql, campaign, place).pipe(Effect.catchTag("SqlError", (e) => Effect.fail(readError(e))))
        // Compacting rewrites every row: never while other workers append.
        if (!shared && needsCompaction(loaded)) {
          yield* writeSnapshot(sql, campaign, loaded.state).pipe(Effect.mapError(writeError))
          loaded = { state: loaded.state, entries: 1 }
        }
        yield* dropPgOutputsNotIn(sql, campaign, options.jobIds).pipe(Effect.mapError(writeError))
        const lock = yield* loadPgLock(sql, campaign, ref.name, place).pipe(Effect.catchTag("SqlError", (e) => Effect.fail(readError(e))))
        const journal: Journal = yield* pgJournal(sql, campaign, loaded.state, writeError, lease.held, lease.holdsLock)
        const fileRecorder = yield* makeStateRecorder({ journal, lockPath: lockFilePath(ref.file), lock, jobIds: options.jobIds })
        // Each output's entry goes to the database with its completion: any machine can write the lock file from it.
        const recorder: RunState["recorder"] = {
          ...fileRecorder,
          completed: (output, facts, at) =>
            Effect.zipRight(
              fileRecorder.completed(output, facts, at),
              whileAway(lease.held, putPgOutput(sql, campaign, output.job, output.entry), writeError)
            ),
          upToDate: (job: string, entry: LockEntry) =>
            Effect.zipRight(fileRecorder.upToDate(job, entry), Effect.ignore(putPgOutput(sql, campaign, job, entry)))
        }
        const dir = dirOf(ref)
        const history = yield* openRunHistory(dir, options.run, new Date(yield* Clock.currentTimeMillis))
        const state: RunState = {
          journal: loaded.state,
          lock,
          warnings: imported,
          recorder,
          cacheDir: dir,
          tookOverFrom: undefined,
          setAside: [],
          history,
          sharedQuota: (quotaKey) => makePgQuotaLedger(sql, quotaKey),
          ...(shared ? { shared: sharedCampaign(sql, campaign, lease, loaded.state) } : {})
        }
        return state
      })

    /** What a worker reads of the others: one render's records before taking it up, every submit before a reconciliation. */
    const sharedCampaign = (sql: SqlClient.SqlClient, campaign: number, lease: RunLease, state: JournalState): SharedCampaign => {
      const place = placeOf(campaign)
      const asReadError = (e: StateCorrupt | SqlError) => (e._tag === "SqlError" ? readError(e) : corruptAsIo(e))
      return {
        campaign: String(campaign),
        epoch: lease.epoch,
        sql,
        // Waits out the database's absence (and the campaign's hold being taken again), as the journal's writes do.
        refresh: (fps) =>
          Effect.map(whileAway(lease.held, loadPgRenders(sql, campaign, fps, place), asReadError), (fresh) => {
            // A render the database holds nothing of keeps what this run knows (an entry of its own
            // may be on its way): at worst a submit is reconciled that another runner voided.
            for (const fp of fps) {
              const record = fresh.renders.get(fp)
              if (record) state.renders.set(fp, record)
            }
            for (const [job, output] of fresh.outputs) if (fps.includes(output.fp)) state.outputs.set(job, output)
            for (const id of fresh.retiredVideos) state.retiredVideos.add(id)
          }),
        submits: Effect.map(loadPgJournal(sql, campaign, place), ({ state: all }) => ({
          claimed: claimedVideoIds(all),
          unanswered: [...all.renders.values()].flatMap((record) => {
            const start = recordedStart(record)
            return start._tag === "Reconcile" ? [{ job: record.job, intentAt: start.intentAt }] : []
          }),
          orphanWindows: all.orphanWindows
        })).pipe(Effect.mapError(asReadError))
      }
    }

    const campaignOf = (ref: StateRef) =>
      Effect.gen(function* () {
        const sql = yield* ready
        const found = yield* findCampaign(sql, ref.name, yield* identityOf(ref)).pipe(Effect.mapError(readError))
        return { sql, found }
      })

    const service: StateStoreService = {
      openForRun,
      read,
      runner: (ref) =>
        campaignOf(ref).pipe(
          Effect.flatMap(({ sql, found }) =>
            found === undefined
              ? Effect.succeed({ _tag: "Absent" as const, lockFile: location.described })
              : inspectPgRunnerLock(sql, found.id, placeOf(found.id)).pipe(Effect.mapError(readError))
          ),
          // Who runs it cannot be told: say nobody is known (the run itself is refused by the lock if one is going).
          Effect.orElseSucceed(() => ({ _tag: "Absent" as const, lockFile: location.described }))
        ),
      unlock: (ref) =>
        campaignOf(ref).pipe(
          Effect.flatMap(({ sql, found }) => (found === undefined ? Effect.void : clearPgRunnerRow(sql, found.id))),
          Effect.ignore
        ),
      runs: (ref) => listRuns(dirOf(ref)),
      runEvents: (ref, n, events) => readRunEvents(dirOf(ref), ref.name, n, events)
    }
    return service
  })

/** The state port on the database at `location` (connected when the state is first needed). */
export const postgresStateStore = (location: PostgresLocation): Layer.Layer<StateStore> =>
  Layer.scoped(StateStore, makePostgresStore(location)).pipe(Layer.provide(Layer.merge(NodeFileSystem.layer, NodePath.layer)))

/** The state port on the database a connection string names (`postgres://user:password@host:5432/database`): for a library caller's `Effect.provide`. */
export const postgresState = (connectionString: string): Layer.Layer<StateStore, StateUrlInvalid> => {
  const location = parseStateUrl(connectionString, "the connection string")
  return location._tag === "StateUrlInvalid" ? Layer.fail(location) : postgresStateStore(location)
}
