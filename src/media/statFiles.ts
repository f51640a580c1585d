/**
 * Many files looked up at once, synchronously, a batch at a time: at 100,000 outputs the async
 * `stat` (a thread-pool request, a promise and a Stats object each) cost three times as much as
 * the system calls themselves. The event loop gets a turn between batches (Ctrl-C stays prompt).
 */
import { Effect } from "effect"
import { statSync } from "node:fs"

export interface FileStat {
  readonly type: "File" | "Directory" | "Other"
  /** `dev:ino`, the file's identity through links and case-folding names; undefined where the file system gives none. */
  readonly identity: string | undefined
  readonly size: number
  readonly mtimeMs: number
}

const batch = 1000

/** One file's facts; undefined when it does not exist or cannot be looked up (as `stat` failing would say). */
export const statFile = (path: string): FileStat | undefined => {
  try {
    const s = statSync(path, { throwIfNoEntry: false })
    if (s === undefined) return undefined
    return {
      type: s.isFile() ? "File" : s.isDirectory() ? "Directory" : "Other",
      identity: s.ino === 0 ? undefined : `${s.dev}:${s.ino}`,
      size: s.size,
      mtimeMs: s.mtimeMs
    }
  } catch {
    return undefined
  }
}

/** `statFile` of each path, in order. */
export const statFiles = (paths: ReadonlyArray<string>): Effect.Effect<ReadonlyArray<FileStat | undefined>> =>
  Effect.gen(function* () {
    const stats: Array<FileStat | undefined> = []
    for (let from = 0; from < paths.length; from += batch) {
      if (from > 0) yield* Effect.yieldNow()
      const end = Math.min(from + batch, paths.length)
      for (let i = from; i < end; i++) stats.push(statFile(paths[i]!))
    }
    return stats
  })
