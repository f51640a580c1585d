/**
 * Where outputs may go: inside the project root, the nearest ancestor of the pipeline holding
 * `.git` or `package.json` (else the pipeline's own folder). Symlinks are resolved first, so a
 * link inside the project cannot carry a write outside it.
 */
import { FileSystem, Path } from "@effect/platform"
import { Effect } from "effect"

/** The project root and how it was found: the marker it holds, or none (then it is the pipeline's own folder). */
export interface ProjectRoot {
  readonly root: string
  readonly marker: ProjectRootMarker | undefined
}

export type ProjectRootMarker = ".git" | "package.json"

const markers: ReadonlyArray<ProjectRootMarker> = [".git", "package.json"]

export const locateProjectRoot = (pipelineDir: string): Effect.Effect<ProjectRoot, never, FileSystem.FileSystem | Path.Path> =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    let dir = pipelineDir
    for (;;) {
      for (const marker of markers) {
        if (yield* fs.exists(path.join(dir, marker)).pipe(Effect.orElseSucceed(() => false))) return { root: dir, marker }
      }
      const parent = path.dirname(dir)
      if (parent === dir) return { root: pipelineDir, marker: undefined }
      dir = parent
    }
  })

export const findProjectRoot = (pipelineDir: string): Effect.Effect<string, never, FileSystem.FileSystem | Path.Path> =>
  Effect.map(locateProjectRoot(pipelineDir), (found) => found.root)

/**
 * How `found` was chosen and how to change it, as a sentence for the message of an output outside
 * it: the nearest folder at or above the pipeline's holding .git or package.json, else the
 * pipeline's own folder.
 */
export const describeProjectRoot = (found: ProjectRoot): string =>
  found.marker !== undefined
    ? `The root is the nearest folder at or above the pipeline's holding .git or package.json (here ${found.marker}); ` +
      `choose an output inside it, or keep the pipeline in the project its outputs belong to`
    : `No folder at or above the pipeline's holds .git or package.json, so the root is the pipeline's own folder; ` +
      `choose an output inside it, or add a .git or package.json to a folder above both the pipeline and its outputs`

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
