/**
 * One run at a time per campaign, across machines: the run holds a session advisory lock on the
 * campaign on a connection of its own for its whole life, and writes who it is into
 * `clapper_runners` for whoever is refused. A run that dies drops its connection, and the server
 * frees the lock at once: a database lock is never stale, so nothing is taken over by guessing.
 */
import type { SqlClient, Statement } from "@effect/sql"
import type { Connection } from "@effect/sql/SqlConnection"
import { Effect, ExecutionStrategy, Exit, Option, Schema, Scope } from "effect"
import { hostname } from "node:os"
import { StateIoError } from "../journal.ts"
import { LockHolder, RunnerLocked, type RunnerLockState } from "../runnerLock.ts"
import { isConnectionLoss } from "./pgConnection.ts"

/** The advisory lock's first key: Clapper's runs (the second is the campaign's id). */
const runLockClass = 0x434c5052
/** Serialises workers joining a campaign, so exactly the first of a session of workers starts a new epoch. */
const joinLockClass = 0x434c504a

const decodeHolder = Schema.decodeUnknownOption(Schema.parseJson(LockHolder))

const readHolder = (sql: SqlClient.SqlClient, campaign: number) =>
  Effect.map(sql<{ holder: string }>`SELECT holder FROM clapper_runners WHERE campaign_id = ${campaign}`, (rows) =>
    rows[0] === undefined ? Option.none() : decodeHolder(rows[0].holder)
  )

/**
 * The run's hold on its campaign while the database comes and goes. The lock lives in a session:
 * when the database restarts or the connection drops, the lock is gone with it, and another run
 * (a standby) may take the campaign. So the run checks its session every second; once it is lost,
 * nothing is recorded, and so nothing paid is sent (every submit waits for its intent's record),
 * until the lock is taken again on a new session. If another run took it meanwhile, this run
 * stops: `held` fails from then on.
 */
export interface RunLease {
  readonly holder: LockHolder
  /** Returns at once while the lock is held; waits while it is being taken again; fails once another run has it. */
  readonly held: Effect.Effect<void, StateIoError>
  /**
   * SQL that is true only while this run's session holds the lock: a journal row is written with
   * it as its condition, so no record (and so no paid request) is made by a run that lost the
   * campaign in the second before it noticed.
   */
  readonly holdsLock: () => Statement.Fragment
  /**
   * Workers only (`mode: "shared"`): the campaign's session of workers this one joined. The first
   * worker on a campaign nobody works starts a new one; those joining while it runs share it.
   */
  readonly epoch: number
}

/**
 * Takes the campaign's lock as a worker (shared with other workers, never with an exclusive run)
 * and says which session of workers it joined: under a lock that lets one worker join at a time,
 * the first of a session (no other worker holds the campaign) raises the campaign's epoch.
 */
const joinAsWorker = (connection: Connection, campaign: number) =>
  Effect.gen(function* () {
    yield* connection.execute("SELECT pg_advisory_lock($1, $2)", [joinLockClass, campaign], undefined)
    const joined = Effect.gen(function* () {
      const [row] = yield* connection.execute(
        "SELECT pg_try_advisory_lock_shared($1, $2) AS taken, pg_backend_pid() AS pid",
        [runLockClass, campaign],
        undefined
      )
      if (row?.taken !== true) return { row, epoch: 0 }
      const [others] = yield* connection.execute(
        "SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND classid = $1 AND objid = $2 AND granted AND pid <> pg_backend_pid()",
        [runLockClass, campaign],
        undefined
      )
      const [epoch] = yield* connection.execute(
        Number(others?.n) === 0
          ? "UPDATE clapper_campaigns SET epoch = epoch + 1 WHERE id = $1 RETURNING epoch"
          : "SELECT epoch FROM clapper_campaigns WHERE id = $1",
        [campaign],
        undefined
      )
      return { row, epoch: Number(epoch?.epoch) }
    })
    return yield* joined.pipe(
      Effect.ensuring(Effect.ignore(connection.execute("SELECT pg_advisory_unlock($1, $2)", [joinLockClass, campaign], undefined)))
    )
  })

/** Takes the campaign's run lock for the life of the scope, or fails with `RunnerLocked` naming who holds it. */
export const acquirePgRunnerLock = (
  sql: SqlClient.SqlClient,
  campaign: number,
  info: {
    readonly command: string
    readonly pipeline: string
    readonly database: string
    /** Wait for the holder to end instead of refusing (told who it is), then take the campaign over. */
    readonly waiting?: (holder: LockHolder | undefined) => Effect.Effect<void>
    /** Told when the database goes away during the run, and when the run holds the campaign again. */
    readonly notice: (message: string) => Effect.Effect<void>
    /** `shared`: a worker, one of several working the campaign together (default: one run holds it alone). */
    readonly mode?: "exclusive" | "shared"
  }
) =>
  Effect.gen(function* () {
    const scope = yield* Effect.scope
    let sessionScope = yield* Scope.fork(scope, ExecutionStrategy.sequential)
    let connection = yield* sql.reserve.pipe(Scope.extend(sessionScope))
    const shared = info.mode === "shared"
    const tryLock = shared ? "pg_try_advisory_lock_shared" : "pg_try_advisory_lock"
    let epoch = 0
    let row: Record<string, unknown> | undefined
    if (shared) {
      const joined = yield* joinAsWorker(connection, campaign)
      row = joined.row
      epoch = joined.epoch
    } else {
      ;[row] = yield* connection.execute(`SELECT ${tryLock}($1, $2) AS taken, pg_backend_pid() AS pid`, [runLockClass, campaign], undefined)
    }
    if (row?.taken !== true && info.waiting && !shared) {
      yield* info.waiting(Option.getOrUndefined(yield* readHolder(sql, campaign)))
      // Blocks until the holder's session lets go: it ended, or died and its connection dropped.
      // A standby outlasts the database's absences too: it waits again on a new session.
      for (;;) {
        const waited = yield* Effect.either(
          connection.execute("SELECT pg_advisory_lock($1, $2), pg_backend_pid() AS pid", [runLockClass, campaign], undefined)
        )
        if (waited._tag === "Right") {
          row = { taken: true, pid: waited.right[0]?.pid }
          break
        }
        if (!isConnectionLoss(waited.left)) return yield* Effect.fail(waited.left)
        yield* Scope.close(sessionScope, Exit.void)
        yield* Effect.sleep("1 second")
        sessionScope = yield* Scope.fork(scope, ExecutionStrategy.sequential)
        const next = yield* Effect.either(sql.reserve.pipe(Scope.extend(sessionScope)))
        if (next._tag === "Right") connection = next.right
      }
    } else if (row?.taken !== true) {
      const holder = yield* readHolder(sql, campaign)
      const [held] = yield* sql<{ byWorkers: boolean }>`
        SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND classid = ${runLockClass} AND objid = ${campaign} AND granted AND mode = 'ShareLock') AS "byWorkers"`
      const byWorkers = held?.byWorkers === true
      return yield* Effect.fail(
        new RunnerLocked({
          lockFile: `${info.database} (campaign ${campaign})`,
          pipeline: info.pipeline,
          ...(Option.isSome(holder) && !byWorkers ? { holder: holder.value } : {}),
          // Held by a live session: the database knows, nothing to guess.
          reason: byWorkers ? "workers" : "alive"
        })
      )
    }
    const holder: LockHolder = { pid: process.pid, host: hostname(), startedAt: new Date().toISOString(), command: info.command }
    const text = JSON.stringify(holder)
    let session = connection
    let backendPid = Number(row?.pid)
    // Made at each call: the backend's pid changes with the session. Workers are many: the cluster's runners table names them.
    const register = () =>
      shared
        ? Effect.void
        : sql`INSERT INTO clapper_runners (campaign_id, holder, backend_pid) VALUES (${campaign}, ${text}, ${backendPid})
               ON CONFLICT (campaign_id) DO UPDATE SET holder = EXCLUDED.holder, backend_pid = EXCLUDED.backend_pid`
    yield* register()
    yield* Effect.addFinalizer(() =>
      Effect.ignore(
        Effect.zipRight(
          sql`DELETE FROM clapper_runners WHERE campaign_id = ${campaign} AND backend_pid = ${backendPid}`,
          session.execute("SELECT pg_advisory_unlock($1, $2)", [runLockClass, campaign], undefined)
        )
      )
    )

    let state: "held" | "lost" | "taken" = "held"
    const since = { at: 0 }
    /** A new session, and the lock on it if nobody else took it meanwhile (our old session's lock still counts as ours). */
    const retake = Effect.gen(function* () {
      const fresh = yield* Scope.fork(scope, ExecutionStrategy.sequential)
      const next = yield* sql.reserve.pipe(Scope.extend(fresh))
      const [got] = yield* next.execute(`SELECT ${tryLock}($1, $2) AS taken, pg_backend_pid() AS pid`, [runLockClass, campaign], undefined)
      if (got?.taken === true) {
        sessionScope = fresh
        session = next
        backendPid = Number(got.pid)
        yield* register()
        return "held" as const
      }
      yield* Scope.close(fresh, Exit.void)
      const holders = yield* sql<{ pid: number; mode: string }>`
        SELECT pid, mode FROM pg_locks WHERE locktype = 'advisory' AND classid = ${runLockClass} AND objid = ${campaign} AND granted`
      // Our old session, not yet ended by the server: still ours to wait for. (Other workers hold it too: only a run alone takes it from a worker.)
      const others = holders.filter((h) => Number(h.pid) !== backendPid && (!shared || h.mode === "ExclusiveLock"))
      return holders.some((h) => Number(h.pid) === backendPid) || others.length === 0 ? ("lost" as const) : ("taken" as const)
    })
    const keep = Effect.gen(function* () {
      yield* Effect.sleep("1 second")
      if (state === "held") {
        const alive = yield* session.execute("SELECT 1", [], undefined).pipe(Effect.timeout("5 seconds"), Effect.isSuccess)
        if (!alive) {
          state = "lost"
          since.at = Date.now()
          yield* Scope.close(sessionScope, Exit.void)
          yield* info.notice(`lost the connection to ${info.database}: nothing is sent until the run holds the campaign again`)
        }
      } else if (state === "lost") {
        const next = yield* retake.pipe(Effect.orElseSucceed(() => "lost" as const))
        state = next
        if (next === "held")
          yield* info.notice(`${info.database} is back after ${Math.round((Date.now() - since.at) / 1000)} s: the run goes on`)
      }
    })
    yield* Effect.forkScoped(Effect.forever(keep))

    const takenOver = new StateIoError({
      file: info.database,
      operation: "write",
      reason: "another run took the campaign over while the database was away",
      freeBytes: undefined,
      fix: "This run stops here; the other goes on from what was recorded (clapper status shows who runs it)"
    })
    const held: Effect.Effect<void, StateIoError> = Effect.suspend(() =>
      state === "held" ? Effect.void : state === "taken" ? Effect.fail(takenOver) : Effect.zipRight(Effect.sleep("200 millis"), held)
    )
    const holdsLock = () =>
      sql`EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND classid = ${runLockClass} AND objid = ${campaign} AND pid = ${backendPid} AND granted)`
    const lease: RunLease = { holder, held, holdsLock, epoch }
    return lease
  })

/** Who runs the campaign now: held while a session holds its advisory lock (a dead run's row says nothing). */
export const inspectPgRunnerLock = (sql: SqlClient.SqlClient, campaign: number, place: string) =>
  Effect.gen(function* () {
    const held = yield* sql<{ held: boolean; workers: number }>`
      SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND classid = ${runLockClass} AND objid = ${campaign} AND granted) AS held,
        (SELECT count(*)::int FROM pg_locks WHERE locktype = 'advisory' AND classid = ${runLockClass} AND objid = ${campaign} AND granted AND mode = 'ShareLock') AS workers`
    const workers = Number(held[0]?.workers ?? 0)
    if (workers > 0) return { _tag: "Workers", lockFile: place, count: workers } satisfies RunnerLockState
    const holder = yield* readHolder(sql, campaign)
    const state: RunnerLockState =
      held[0]?.held === true && Option.isSome(holder)
        ? { _tag: "Held", lockFile: place, holder: holder.value, status: holder.value.host === hostname() ? "alive" : "otherHost" }
        : { _tag: "Absent", lockFile: place }
    return state
  })

/** Removes a stale holder row (the lock itself ends with its session). */
export const clearPgRunnerRow = (sql: SqlClient.SqlClient, campaign: number) =>
  sql`DELETE FROM clapper_runners WHERE campaign_id = ${campaign}`.pipe(Effect.asVoid)
