/**
 * `--rebuild-state`: a journal or lock file Clapper cannot trust (`StateCorrupt`) is set aside
 * (renamed, never deleted), and the run starts again from what can be trusted: the outputs on
 * disk, checked against the lock file when it is readable. Renders that were only in flight in the
 * lost journal cannot be recovered this way; they are submitted again.
 *
 * A file that cannot be read at all (permissions, an I/O error) is not set aside: its content may
 * be fine, and starting without it could pay for renders again. That, and a rename that fails,
 * is a `StateIoError` saying what to fix.
 */
import { Effect } from "effect"
import { rename } from "node:fs/promises"
import { journalFile, readJournal, stateIo, type StateIoError } from "./journal.ts"
import { readLockFile } from "./lockFile.ts"

export interface SetAside {
  readonly from: string
  readonly to: string
}

export const rebuildState = (stateDir: string, lockPath: string, pipeline: string): Effect.Effect<ReadonlyArray<SetAside>, StateIoError> =>
  Effect.gen(function* () {
    const stamp = new Date().toISOString().replace(/[:.]/g, "-")
    const setAside: Array<SetAside> = []
    const moveAside = (from: string) => {
      const to = `${from}.corrupt-${stamp}`
      return stateIo(from, "write", () => rename(from, to)).pipe(Effect.tap(() => Effect.sync(() => setAside.push({ from, to }))))
    }
    // `true` when the file is corrupt; an I/O error goes on as it is.
    const journalCorrupt = yield* readJournal(stateDir).pipe(
      Effect.as(false),
      Effect.catchTag("StateCorrupt", () => Effect.succeed(true))
    )
    if (journalCorrupt) yield* moveAside(journalFile(stateDir))
    const lockCorrupt = yield* readLockFile(lockPath, pipeline).pipe(
      Effect.as(false),
      Effect.catchTag("StateCorrupt", () => Effect.succeed(true))
    )
    if (lockCorrupt) yield* moveAside(lockPath)
    return setAside
  })
