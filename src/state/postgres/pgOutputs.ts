/**
 * The lock file's entries in a state database (`clapper_outputs`): each completed output's entry,
 * written as the output is placed. The lock file beside the pipeline is written from them, by the
 * same writer as the file store's (state/lockText.ts), so the same renders give the same bytes
 * whichever store recorded them.
 */
import type { SqlClient } from "@effect/sql"
import { Effect, Schema } from "effect"
import { schemaProblem, StateCorrupt } from "../journal.ts"
import { LockEntry, lockVersion, type LockFile } from "../lockFile.ts"
import { lockEntryJson } from "../lockText.ts"

const decodeLockEntry = Schema.decodeUnknownEither(LockEntry)

/** The campaign's lock as the database has it; a row that is not an entry is damage, named by its output. */
export const loadPgLock = (sql: SqlClient.SqlClient, campaign: number, pipeline: string, place: string) =>
  Effect.gen(function* () {
    const rows = yield* sql<{ job: string; entry: string }>`SELECT job, entry FROM clapper_outputs WHERE campaign_id = ${campaign}`
    const outputs: Record<string, LockEntry> = {}
    for (const [index, row] of rows.entries()) {
      let json: unknown
      try {
        json = JSON.parse(row.entry)
      } catch {
        return yield* Effect.fail(new StateCorrupt({ file: place, line: index + 1, reason: `the entry of ${row.job} is not valid JSON` }))
      }
      const decoded = decodeLockEntry(json)
      if (decoded._tag === "Left") {
        return yield* Effect.fail(
          new StateCorrupt({
            file: place,
            line: index + 1,
            reason: `the entry of ${row.job} is not a lock entry (${schemaProblem(decoded.left)})`
          })
        )
      }
      outputs[row.job] = decoded.right
    }
    const lock: LockFile = { version: lockVersion, pipeline, outputs }
    return lock
  })

/** Records (or replaces) one output's entry. */
export const putPgOutput = (sql: SqlClient.SqlClient, campaign: number, job: string, entry: LockEntry) =>
  sql`INSERT INTO clapper_outputs (campaign_id, job, entry) VALUES (${campaign}, ${job}, ${lockEntryJson(entry)})
      ON CONFLICT (campaign_id, job) DO UPDATE SET entry = EXCLUDED.entry`.pipe(Effect.asVoid)

/** Records many entries at once (an import), a thousand rows per statement. */
export const putPgOutputs = (sql: SqlClient.SqlClient, campaign: number, entries: ReadonlyArray<readonly [string, LockEntry]>) =>
  Effect.forEach(
    Array.from({ length: Math.ceil(entries.length / 1000) }, (_, i) => entries.slice(i * 1000, (i + 1) * 1000)),
    (chunk) =>
      sql`INSERT INTO clapper_outputs ${sql.insert(chunk.map(([job, entry]) => ({ campaign_id: campaign, job, entry: lockEntryJson(entry) })))}
          ON CONFLICT (campaign_id, job) DO UPDATE SET entry = EXCLUDED.entry`,
    { discard: true }
  )

/** Drops the entries of outputs no longer in the pipeline (as the file store's lock drops them); the ids go as one JSON parameter (a statement takes at most 65,535). */
export const dropPgOutputsNotIn = (sql: SqlClient.SqlClient, campaign: number, jobIds: ReadonlySet<string>) =>
  sql`DELETE FROM clapper_outputs WHERE campaign_id = ${campaign} AND NOT (job = ANY (SELECT jsonb_array_elements_text(${JSON.stringify([...jobIds])}::jsonb)))`.pipe(
    Effect.asVoid
  )
