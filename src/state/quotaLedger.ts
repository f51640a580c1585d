/**
 * One key, one budget on this machine: the submit slots of an API key's quota, shared by every
 * Clapper process that uses that key against that base URL (two terminals, a cron job and a
 * person), so that together they stay within the provider's quota.
 *
 * Time is cut into slots of one spacing each (`perMs / count`, plus a small margin); slot `k`
 * starts at `k × spacing`. A process takes a slot by creating the file `<k>` in the kind's folder
 * with O_EXCL: the file system decides, atomically, who owns each slot. There is no lock to hold,
 * so nothing can deadlock, and a killed process leaves at most the slots it took (in the past
 * soon after; cleared later). Requests of one kind therefore start at least one spacing apart,
 * whoever sends them:
 * - an on-time claim (the slot has not begun) starts at the slot's beginning;
 * - a late claim (the slot has begun) also takes the next slot, so the request after it, on time
 *   in the slot after that, still starts a whole spacing later. An idle key therefore sends at once.
 *
 * The folder is named by a digest of key + base URL: the key itself is written nowhere.
 */
import { Clock, Effect } from "effect"
import { createHash } from "node:crypto"
import { mkdir, open, readdir, unlink } from "node:fs/promises"
import { homedir } from "node:os"
import { join } from "node:path"

export interface QuotaLedger {
  /**
   * A start time (epoch ms) for one request of `kind`, at or after `earliest`, at least `spacingMs`
   * after every other start of that kind on this key. Never fails: a ledger that cannot be
   * written falls back to `earliest` (the provider's 429 then paces, as with another machine).
   */
  readonly claim: (kind: string, spacingMs: number, earliest: number) => Effect.Effect<number>
}

/** The margin added to the spacing: the provider's window and ours need not line up to the millisecond. */
export const spacingMargin = 0.02

/** Where the ledgers live: `$CLAPPER_QUOTA_DIR`, else `$XDG_STATE_HOME/clapper/quota`, else `~/.local/state/clapper/quota`. */
export const defaultLedgerRoot = (env: NodeJS.ProcessEnv = process.env): string =>
  env.CLAPPER_QUOTA_DIR ?? join(env.XDG_STATE_HOME ?? join(homedir(), ".local", "state"), "clapper", "quota")

/** The name of a key's ledger: a digest of key and base URL, never the key. */
export const ledgerName = (apiKey: string, baseUrl: string): string =>
  createHash("sha256")
    .update(`${baseUrl.replace(/\/+$/, "")}\n${apiKey}`)
    .digest("hex")
    .slice(0, 32)

/** Quotas faster than one request per millisecond are not shared through files. */
const minSharedSpacingMs = 1

/** Slots kept behind the current one before their files are removed. */
const keptSlots = 4

/** Creates `file` if it does not exist: true when this call created it. */
const createExclusive = async (file: string): Promise<boolean> => {
  try {
    const handle = await open(file, "wx")
    await handle.close()
    return true
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "EEXIST") return false
    throw e
  }
}

export const makeFileQuotaLedger = (root: string, name: string): QuotaLedger => {
  const dir = join(root, name)
  const prepared = new Map<string, Promise<string>>()
  const folder = (kind: string, spacingMs: number) => {
    // Processes configured with different quotas for one key cannot share a slot grid; each
    // spacing gets its own folder (the provider's 429s pace such a mix).
    const key = `${kind}-${Math.round(spacingMs)}`
    let ready = prepared.get(key)
    if (!ready) {
      const path = join(dir, key)
      ready = mkdir(path, { recursive: true, mode: 0o700 }).then(() => path)
      prepared.set(key, ready)
    }
    return ready
  }
  let claims = 0
  /** Old slot files go, now and then (every 64th claim), so a folder holds a handful. */
  const sweep = async (path: string, current: number) => {
    for (const name of await readdir(path)) {
      const slot = Number(name)
      if (Number.isInteger(slot) && slot < current - keptSlots) await unlink(join(path, name)).catch(() => undefined)
    }
  }
  const take = async (kind: string, spacingMs: number, earliest: number, now: number): Promise<number> => {
    const path = await folder(kind, spacingMs)
    const current = Math.floor(Math.max(earliest, now) / spacingMs)
    if (++claims % 64 === 1) await sweep(path, current)
    const begin = Math.max(earliest, now)
    let slot = current
    if (begin > slot * spacingMs) {
      // Late in this slot: usable only together with the next one.
      if (await createExclusive(join(path, String(slot)))) {
        if (await createExclusive(join(path, String(slot + 1)))) return begin
      }
      slot += 1
    }
    for (; ; slot++) {
      if (await createExclusive(join(path, String(slot)))) return slot * spacingMs
    }
  }
  return {
    claim: (kind, spacingMs, earliest) =>
      // Above a thousand requests a second a slot file per request is all cost: not shared.
      spacingMs < minSharedSpacingMs
        ? Effect.succeed(earliest)
        : Effect.flatMap(Clock.currentTimeMillis, (now) =>
            Effect.tryPromise(() => take(kind, spacingMs, earliest, now)).pipe(Effect.orElseSucceed(() => Math.max(earliest, now)))
          )
  }
}

/** No sharing: every claim starts at `earliest` (the run's own pacing still applies). */
export const unsharedQuotaLedger: QuotaLedger = { claim: (_kind, _spacing, earliest) => Effect.succeed(earliest) }
