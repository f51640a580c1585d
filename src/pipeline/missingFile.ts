/**
 * "Did you mean" for a file that does not exist: the closest names in its folder (by
 * `didYouMean`), the folder itself corrected the same way when it is the name that is missing.
 * Reads folders only; never fails (an unreadable folder has no suggestions).
 */
import { FileSystem, Path } from "@effect/platform"
import { Effect } from "effect"
import { didYouMean } from "./didYouMean.ts"

/** At most this many missing names in a row are corrected: beyond, it would be a guess. */
const maxCorrected = 2

/**
 * The file the user probably meant by `absolute` (which does not exist), written as they wrote
 * it (`shown`, relative or absolute, with "/" separators): `pipelines/quickstar.yaml` →
 * `pipelines/quickstart.yaml`, `pipeline/quickstart.yaml` → `pipelines/quickstart.yaml`.
 * Undefined when no close name exists in each folder, or the result is not a file.
 */
export const closeExistingFile = (
  absolute: string,
  shown: string
): Effect.Effect<string | undefined, never, FileSystem.FileSystem | Path.Path> =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const exists = (p: string) => fs.exists(p).pipe(Effect.orElseSucceed(() => false))
    // The deepest folder that exists, and the names below it that do not.
    const missing: Array<string> = []
    let existing = path.resolve(absolute)
    while (!(yield* exists(existing))) {
      const parent = path.dirname(existing)
      if (parent === existing) return undefined
      missing.unshift(path.basename(existing))
      existing = parent
    }
    if (missing.length === 0 || missing.length > maxCorrected) return undefined
    const corrected: Array<string> = []
    let current = existing
    for (const name of missing) {
      const names = yield* fs.readDirectory(current).pipe(Effect.orElseSucceed((): ReadonlyArray<string> => []))
      const close = didYouMean(name, names)
      if (close === undefined) return undefined
      corrected.push(close)
      current = path.join(current, close)
    }
    const info = yield* fs.stat(current).pipe(Effect.option)
    if (info._tag === "None" || info.value.type !== "File") return undefined
    // The corrected names in place of the missing ones, in the user's own spelling of the rest.
    const segments = path.normalize(shown).split(/[\\/]/)
    const kept = segments.slice(0, Math.max(0, segments.length - missing.length))
    if (path.isAbsolute(shown) || segments.length < missing.length) return current.split(path.sep).join("/")
    return [...kept, ...corrected].join("/")
  })

/** ` (did you mean "…"?)` when a close file exists, else "". */
export const didYouMeanFile = (absolute: string, shown: string): Effect.Effect<string, never, FileSystem.FileSystem | Path.Path> =>
  Effect.map(closeExistingFile(absolute, shown), (close) => (close === undefined ? "" : ` (did you mean "${close}"?)`))
