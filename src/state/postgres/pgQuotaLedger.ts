/**
 * One key, one budget wherever it runs: the key's submit slots (state/quotaLedger.ts) as rows of
 * `clapper_quota_slots` in the state database, so runs on several machines that share the
 * database stay together within the provider's quota. The rule is the file ledger's, with the
 * database deciding who owns each slot (a primary key instead of an exclusive create):
 * - an on-time claim (its slot not begun) starts at the slot's beginning;
 * - a late claim also takes the next slot, so the request after it still starts a spacing later.
 * Slots are in each machine's own clock (machines are expected to keep NTP time; the spacing's
 * 2 % margin absorbs small offsets). The ledger is named by a digest of key and base URL: the key
 * is written nowhere. A claim never fails: when the database cannot answer, the request starts at
 * its earliest (and the provider's 429s pace, as they would with a machine outside the database).
 */
import type { SqlClient } from "@effect/sql"
import { Clock, Effect } from "effect"
import type { QuotaLedger } from "../quotaLedger.ts"

/** Quotas faster than one request per millisecond are not shared (as the file ledger). */
const minSharedSpacingMs = 1

/** Slots kept behind the current one before their rows are removed. */
const keptSlots = 4

export const pgQuotaSlotsTable = `CREATE TABLE IF NOT EXISTS clapper_quota_slots (
  ledger text NOT NULL,
  grid text NOT NULL,
  slot bigint NOT NULL,
  PRIMARY KEY (ledger, grid, slot)
)`

export const makePgQuotaLedger = (sql: SqlClient.SqlClient, ledger: string): QuotaLedger => {
  let claims = 0
  /** True when this call took `slot`. */
  const takeSlot = (grid: string, slot: number) =>
    Effect.map(
      sql<{ slot: string }>`INSERT INTO clapper_quota_slots (ledger, grid, slot) VALUES (${ledger}, ${grid}, ${slot})
        ON CONFLICT DO NOTHING RETURNING slot`,
      (rows) => rows.length === 1
    )
  /** The first free slot at or after `from`, taken: one statement, however busy the grid. */
  const takeFirstFree = (grid: string, from: number) =>
    Effect.gen(function* () {
      for (;;) {
        const rows = yield* sql<{ slot: string }>`
          INSERT INTO clapper_quota_slots (ledger, grid, slot)
          SELECT ${ledger}, ${grid}, s FROM generate_series(${from}::bigint, ${from}::bigint + 10000) AS s
          WHERE NOT EXISTS (SELECT 1 FROM clapper_quota_slots q WHERE q.ledger = ${ledger} AND q.grid = ${grid} AND q.slot = s)
          ORDER BY s LIMIT 1
          ON CONFLICT DO NOTHING RETURNING slot`
        // Another runner took the same slot between the look and the insert: look again.
        if (rows[0] !== undefined) return Number(rows[0].slot)
      }
    })
  const take = (kind: string, spacingMs: number, earliest: number, now: number) =>
    Effect.gen(function* () {
      // Runners configured with different quotas for one key cannot share a grid: one per spacing.
      const grid = `${kind}-${Math.round(spacingMs)}`
      const begin = Math.max(earliest, now)
      const current = Math.floor(begin / spacingMs)
      if (++claims % 64 === 1) {
        yield* sql`DELETE FROM clapper_quota_slots WHERE ledger = ${ledger} AND grid = ${grid} AND slot < ${current - keptSlots}`
      }
      let from = current
      if (begin > current * spacingMs) {
        // Late in this slot: usable only together with the next one.
        if ((yield* takeSlot(grid, current)) && (yield* takeSlot(grid, current + 1))) return begin
        from = current + 1
      }
      const slot = yield* takeFirstFree(grid, from)
      return slot * spacingMs
    })
  return {
    claim: (kind, spacingMs, earliest) =>
      spacingMs < minSharedSpacingMs
        ? Effect.succeed(earliest)
        : Effect.flatMap(Clock.currentTimeMillis, (now) =>
            take(kind, spacingMs, earliest, now).pipe(Effect.orElseSucceed(() => Math.max(earliest, now)))
          )
  }
}
