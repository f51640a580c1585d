/**
 * The lock's lines by output id, kept in id order for the writer. A completion replaces one line;
 * a write joins them. Ids are kept sorted: the ones added since the last write are sorted alone
 * and merged in, so a write of a 100,000-output lock sorts the few new ids, not all of them.
 */
import type { LockEntry } from "./lockFile.ts"
import { assembleLock, lockLine } from "./lockText.ts"

export interface LockLines {
  /** Sets (or replaces) the entry of output `id`. */
  readonly set: (id: string, entry: LockEntry) => void
  /** The lock file's bytes now. */
  readonly bytes: (pipeline: string) => Buffer
}

export const makeLockLines = (): LockLines => {
  // Each output's line as UTF-8: what a write copies.
  const lines = new Map<string, Uint8Array>()
  let ordered: Array<string> = []
  let added: Array<string> = []
  const orderedIds = (): ReadonlyArray<string> => {
    if (added.length === 0) return ordered
    // The default sort compares strings by UTF-16 code units: the order the lock promises.
    added.sort()
    const merged: Array<string> = []
    let i = 0
    let j = 0
    while (i < ordered.length && j < added.length) merged.push(ordered[i]! < added[j]! ? ordered[i++]! : added[j++]!)
    while (i < ordered.length) merged.push(ordered[i++]!)
    while (j < added.length) merged.push(added[j++]!)
    ordered = merged
    added = []
    return merged
  }
  return {
    set: (id, entry) => {
      if (!lines.has(id)) added.push(id)
      lines.set(id, Buffer.from(lockLine(id, entry)))
    },
    bytes: (pipeline) =>
      assembleLock(
        pipeline,
        orderedIds().map((id) => lines.get(id)!)
      )
  }
}
