/**
 * Where outputs may go: inside the project root, the nearest ancestor of the pipeline holding
 * `.git` or `package.json` (else the pipeline's own folder). Symlinks are resolved first, so a
 * link inside the project cannot carry a write outside it.
 */
import { FileSystem, Path } from "@effect/platform"
import { Effect } from "effect"

export const findProjectRoot = (pipelineDir: string): Effect.Effect<string, never, FileSystem.FileSystem | Path.Path> =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    let dir = pipelineDir
    for (;;) {
      const marked =
        (yield* fs.exists(path.join(dir, ".git")).pipe(Effect.orElseSucceed(() => false))) ||
        (yield* fs.exists(path.join(dir, "package.json")).pipe(Effect.orElseSucceed(() => false)))
      if (marked) return dir
      const parent = path.dirname(dir)
      if (parent === dir) return pipelineDir
      dir = parent
    }
  })

/**
 * The real location of `target`, which may not exist yet: the deepest existing ancestor is
 * resolved through its symlinks and the rest appended.
 */
export const realLocation = (target: string): Effect.Effect<string, never, FileSystem.FileSystem | Path.Path> =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const rest: Array<string> = []
    let current = target
    for (;;) {
      const real = yield* fs.realPath(current).pipe(Effect.option)
      if (real._tag === "Some") return path.join(real.value, ...rest)
      const parent = path.dirname(current)
      if (parent === current) return target
      rest.unshift(path.basename(current))
      current = parent
    }
  })

/** True when `candidate` is strictly inside `root` (both already real, absolute paths). */
export const isInside = (root: string, candidate: string, path: Path.Path): boolean => {
  const relative = path.relative(root, candidate)
  return relative !== "" && !relative.startsWith("..") && !path.isAbsolute(relative)
}
