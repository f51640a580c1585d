/**
 * The state database's tables, created on first use, and the rule that keeps Clapper versions
 * apart: the database says which store version wrote it; a Clapper that knows an older one is
 * refused with a message (it could misread what a newer one wrote), a newer one upgrades it.
 *
 * - `clapper_store`: one row, the store version and the Clapper that last upgraded it.
 * - `clapper_campaigns`: one row per campaign, keyed by the pipeline's name and its identity
 *   (the pipeline file's path in its project): two pipelines of one name are two campaigns.
 * - `clapper_journal`: the journal's entries (state/journalEntry.ts), in order, per campaign, with
 *   the render's fingerprint beside each (so a runner reads one render's history, not the campaign's).
 * - `clapper_campaigns.epoch`: counts the sessions of workers (`clapper worker`) on the campaign.
 * - `clapper_outputs`: the lock file's entries per campaign: the lock file is written from them.
 * - `clapper_runners`: who runs a campaign now (the run also holds an advisory lock on it).
 * - `clapper_quota_slots`: the submit slots of each key's quota (pgQuotaLedger.ts), shared by every runner.
 */
import { SqlClient } from "@effect/sql"
import { Effect } from "effect"
import { clapperVersion } from "../../mirage/userAgent.ts"
import { pgQuotaSlotsTable } from "./pgQuotaLedger.ts"

/** The tables' layout. Raise it with a migration below when it changes. */
export const storeVersion = 1

/** `a` before `b` as versions (`0.1.0` < `0.10.0`; a pre-release tag sorts before its release). */
export const olderVersion = (a: string, b: string): boolean => {
  const parts = (v: string) => {
    const [core = "", pre] = v.split("-", 2)
    return { nums: core.split(".").map((n) => Number.parseInt(n, 10) || 0), pre }
  }
  const x = parts(a)
  const y = parts(b)
  for (let i = 0; i < Math.max(x.nums.length, y.nums.length); i++) {
    const d = (x.nums[i] ?? 0) - (y.nums[i] ?? 0)
    if (d !== 0) return d < 0
  }
  if (x.pre === y.pre) return false
  if (x.pre === undefined) return false
  if (y.pre === undefined) return true
  return x.pre < y.pre
}

/** Why this Clapper may not use what a newer one wrote, and what to do: a `StateIoError`'s reason and fix. */
export interface Refusal {
  readonly reason: string
  readonly fix: string
}

const upgrade = (to: string) =>
  `Upgrade Clapper on this machine to ${to} or later (every runner of a campaign runs one version), then run the same command again: nothing was sent`

/** A fixed key for the advisory lock that serialises creating the tables. */
const ddlLockKey = 0x434c4150

const ddl = (sql: SqlClient.SqlClient) => [
  sql`CREATE TABLE IF NOT EXISTS clapper_store (
    id int PRIMARY KEY CHECK (id = 1),
    version int NOT NULL,
    clapper text NOT NULL
  )`,
  sql`CREATE TABLE IF NOT EXISTS clapper_campaigns (
    id serial PRIMARY KEY,
    name text NOT NULL,
    identity text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    created_by text NOT NULL,
    clapper text NOT NULL,
    UNIQUE (name, identity)
  )`,
  sql`CREATE TABLE IF NOT EXISTS clapper_journal (
    campaign_id int NOT NULL REFERENCES clapper_campaigns (id) ON DELETE CASCADE,
    seq bigserial,
    entry text NOT NULL,
    fp text,
    PRIMARY KEY (campaign_id, seq)
  )`,
  // Added after the first build of store version 1 (additive: nothing older reads differently).
  sql`ALTER TABLE clapper_journal ADD COLUMN IF NOT EXISTS fp text`,
  sql`CREATE INDEX IF NOT EXISTS clapper_journal_fp ON clapper_journal (campaign_id, fp)`,
  sql`ALTER TABLE clapper_campaigns ADD COLUMN IF NOT EXISTS epoch int NOT NULL DEFAULT 0`,
  sql`CREATE TABLE IF NOT EXISTS clapper_outputs (
    campaign_id int NOT NULL REFERENCES clapper_campaigns (id) ON DELETE CASCADE,
    job text NOT NULL,
    entry text NOT NULL,
    PRIMARY KEY (campaign_id, job)
  )`,
  sql.unsafe(pgQuotaSlotsTable),
  sql`CREATE TABLE IF NOT EXISTS clapper_runners (
    campaign_id int PRIMARY KEY REFERENCES clapper_campaigns (id) ON DELETE CASCADE,
    holder text NOT NULL,
    backend_pid int NOT NULL
  )`
]

/** Creates the tables if they are missing; a refusal when a newer Clapper's store version is there. */
export const prepareStore = (sql: SqlClient.SqlClient) =>
  sql.withTransaction(
    Effect.gen(function* () {
      yield* sql`SELECT pg_advisory_xact_lock(${ddlLockKey})`
      for (const statement of ddl(sql)) yield* statement
      const rows = yield* sql<{ version: number; clapper: string }>`SELECT version, clapper FROM clapper_store WHERE id = 1`
      const row = rows[0]
      if (row === undefined) {
        yield* sql`INSERT INTO clapper_store (id, version, clapper) VALUES (1, ${storeVersion}, ${clapperVersion})`
      } else if (row.version > storeVersion) {
        const refusal: Refusal = {
          reason: `it holds state in store version ${row.version}, written by Clapper ${row.clapper}, and this Clapper (${clapperVersion}) knows version ${storeVersion}`,
          fix: upgrade(row.clapper)
        }
        return refusal
      }
      return undefined
    })
  )

export interface CampaignRow {
  readonly id: number
  /** The newest Clapper that ran it. */
  readonly clapper: string
}

/** The campaign's row; none when it is not there. */
export const findCampaign = (sql: SqlClient.SqlClient, name: string, identity: string) =>
  Effect.map(
    sql<CampaignRow>`SELECT id, clapper FROM clapper_campaigns WHERE name = ${name} AND identity = ${identity}`,
    (rows): CampaignRow | undefined => rows[0]
  )

/**
 * The campaign's row for a run by this Clapper, created on first use: a refusal when a newer
 * Clapper has run it (this one may not know what that one recorded); else it records this version.
 */
export const campaignForRun = (sql: SqlClient.SqlClient, name: string, identity: string) =>
  Effect.gen(function* () {
    const made = yield* sql<CampaignRow>`
      INSERT INTO clapper_campaigns (name, identity, created_by, clapper) VALUES (${name}, ${identity}, ${clapperVersion}, ${clapperVersion})
      ON CONFLICT (name, identity) DO UPDATE SET name = EXCLUDED.name
      RETURNING id, clapper`
    const row = made[0]!
    if (olderVersion(clapperVersion, row.clapper)) {
      const refusal: Refusal = {
        reason: `campaign ${name} was last run by Clapper ${row.clapper}, and this is Clapper ${clapperVersion}`,
        fix: upgrade(row.clapper)
      }
      return { refusal }
    }
    if (row.clapper !== clapperVersion) yield* sql`UPDATE clapper_campaigns SET clapper = ${clapperVersion} WHERE id = ${row.id}`
    return { id: row.id }
  })

/** True when the database holds no journal row and no output of the campaign. */
export const campaignIsEmpty = (sql: SqlClient.SqlClient, campaign: number) =>
  Effect.map(
    sql<{ empty: boolean }>`SELECT NOT EXISTS (SELECT 1 FROM clapper_journal WHERE campaign_id = ${campaign})
      AND NOT EXISTS (SELECT 1 FROM clapper_outputs WHERE campaign_id = ${campaign}) AS empty`,
    (rows) => rows[0]?.empty === true
  )
