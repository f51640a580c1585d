/**
 * One run at a time per campaign, across machines: the run holds a session advisory lock on the
 * campaign on a connection of its own for its whole life, and writes who it is into
 * `clapper_runners` for whoever is refused. A run that dies drops its connection, and the server
 * frees the lock at once: a database lock is never stale, so nothing is taken over by guessing.
 */
import type { SqlClient } from "@effect/sql"
import { Effect, Option, Schema } from "effect"
import { hostname } from "node:os"
import { LockHolder, RunnerLocked, type RunnerLockState } from "../runnerLock.ts"

/** The advisory lock's first key: Clapper's runs (the second is the campaign's id). */
const runLockClass = 0x434c5052

const decodeHolder = Schema.decodeUnknownOption(Schema.parseJson(LockHolder))

const readHolder = (sql: SqlClient.SqlClient, campaign: number) =>
  Effect.map(sql<{ holder: string }>`SELECT holder FROM clapper_runners WHERE campaign_id = ${campaign}`, (rows) =>
    rows[0] === undefined ? Option.none() : decodeHolder(rows[0].holder)
  )

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
  }
) =>
  Effect.gen(function* () {
    const connection = yield* sql.reserve
    const [row] = yield* connection.execute(
      "SELECT pg_try_advisory_lock($1, $2) AS taken, pg_backend_pid() AS pid",
      [runLockClass, campaign],
      undefined
    )
    if (row?.taken !== true && info.waiting) {
      yield* info.waiting(Option.getOrUndefined(yield* readHolder(sql, campaign)))
      // Blocks until the holder's session lets go: it ended, or died and its connection dropped.
      yield* connection.execute("SELECT pg_advisory_lock($1, $2)", [runLockClass, campaign], undefined)
    } else if (row?.taken !== true) {
      const holder = yield* readHolder(sql, campaign)
      return yield* Effect.fail(
        new RunnerLocked({
          lockFile: `${info.database} (campaign ${campaign})`,
          pipeline: info.pipeline,
          ...(Option.isSome(holder) ? { holder: holder.value } : {}),
          // Held by a live session: the database knows, nothing to guess.
          reason: "alive"
        })
      )
    }
    const holder: LockHolder = { pid: process.pid, host: hostname(), startedAt: new Date().toISOString(), command: info.command }
    const text = JSON.stringify(holder)
    const backendPid = Number(row?.pid)
    yield* sql`INSERT INTO clapper_runners (campaign_id, holder, backend_pid) VALUES (${campaign}, ${text}, ${backendPid})
               ON CONFLICT (campaign_id) DO UPDATE SET holder = EXCLUDED.holder, backend_pid = EXCLUDED.backend_pid`
    yield* Effect.addFinalizer(() =>
      Effect.ignore(
        Effect.zipRight(
          sql`DELETE FROM clapper_runners WHERE campaign_id = ${campaign} AND backend_pid = ${backendPid}`,
          connection.execute("SELECT pg_advisory_unlock($1, $2)", [runLockClass, campaign], undefined)
        )
      )
    )
    return holder
  })

/** Who runs the campaign now: held while a session holds its advisory lock (a dead run's row says nothing). */
export const inspectPgRunnerLock = (sql: SqlClient.SqlClient, campaign: number, place: string) =>
  Effect.gen(function* () {
    const held = yield* sql<{ held: boolean }>`
      SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND classid = ${runLockClass} AND objid = ${campaign} AND granted) AS held`
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
