/**
 * `--rebuild-state`: a journal or lock file Clapper cannot read is set aside (renamed, never
 * deleted), and the run starts again from what can be trusted: the outputs on disk, checked
 * against the lock file when it is readable. Renders that were only in flight in the lost journal
 * cannot be recovered this way; they are submitted again.
 */
import { Effect } from "effect"
import { rename } from "node:fs/promises"
import { journalFile, readJournal } from "./journal.ts"
import { readLockFile } from "./lockFile.ts"

export interface SetAside {
  readonly from: string
  readonly to: string
}

export const rebuildState = (stateDir: string, lockPath: string, pipeline: string): Effect.Effect<ReadonlyArray<SetAside>> =>
  Effect.gen(function* () {
    const stamp = new Date().toISOString().replace(/[:.]/g, "-")
    const setAside: Array<SetAside> = []
    const moveAside = (from: string) =>
      Effect.promise(async () => {
        const to = `${from}.corrupt-${stamp}`
        await rename(from, to)
        setAside.push({ from, to })
      })
    if ((yield* Effect.either(readJournal(stateDir)))._tag === "Left") yield* moveAside(journalFile(stateDir))
    if ((yield* Effect.either(readLockFile(lockPath, pipeline)))._tag === "Left") yield* moveAside(lockPath)
    return setAside
  })
