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

/**
 * `path.relative(root, candidate)` with `/` separators when it can be read off the strings: a
 * POSIX `candidate` that is `root`, a `/` and a plain rest (no `.` or `..` segment, no empty one).
 * Undefined otherwise (then `path.relative` answers). Outputs are checked by the hundred thousand.
 */
export const plainPathBelow = (root: string, candidate: string, path: Path.Path): string | undefined => {
  if (path.sep !== "/" || root === "" || root.endsWith("/") || candidate.charCodeAt(root.length) !== 47 || !candidate.startsWith(root))
    return undefined
  const rest = candidate.slice(root.length + 1)
  const plain = rest !== "" && !rest.startsWith(".") && !rest.startsWith("/") && !rest.endsWith("/")
  return plain && !rest.includes("/.") && !rest.includes("//") ? rest : undefined
}

/** True when `candidate` is strictly inside `root` (both already real, absolute paths). */
export const isInside = (root: string, candidate: string, path: Path.Path): boolean => {
  if (plainPathBelow(root, candidate, path) !== undefined) return true
  const relative = path.relative(root, candidate)
  return relative !== "" && !relative.startsWith("..") && !path.isAbsolute(relative)
}

/** Where a folder lies against a root: the root itself, inside it, or neither (`folderRelation`). */
export type FolderRelation = "root" | "inside" | "outside"

/** Once per folder: then `isInsideThrough` answers for each file in it without comparing whole paths. */
export const folderRelation = (root: string, folder: string, path: Path.Path): FolderRelation =>
  folder === root || path.relative(root, folder) === "" ? "root" : isInside(root, folder, path) ? "inside" : "outside"

/**
 * `isInside(root, entry)` for an `entry` directly in a folder whose relation to `root` is known:
 * everything in a folder inside the root is inside it, nothing in a folder outside (the folder
 * holding the root holds the root itself, which is not inside it); in the root, the entry decides.
 */
export const isInsideThrough = (relation: FolderRelation, root: string, entry: string, path: Path.Path): boolean =>
  relation === "inside" || (relation === "root" && isInside(root, entry, path))

/** `path.join(folder, name)` for a file name: by concatenation when `folder` is already a plain POSIX path. */
export const joinName = (folder: string, name: string, path: Path.Path): string =>
  path.sep === "/" && name !== "" && name !== "." && name !== ".." && !name.includes("/") && isPlainAbsolute(folder)
    ? `${folder}/${name}`
    : path.join(folder, name)

/**
 * `path.resolve(folder, relative)` by concatenation when both are plain (POSIX, `folder` absolute
 * and normalized, `relative` without `.` or `..` segments, empty segments or a leading `/`):
 * rendered outputs are resolved by the hundred thousand.
 */
export const resolveBelow = (folder: string, relative: string, path: Path.Path): string =>
  path.sep === "/" &&
  relative !== "" &&
  !relative.startsWith("/") &&
  !relative.endsWith("/") &&
  !relative.includes("//") &&
  !/(^|\/)\.\.?(\/|$)/.test(relative) &&
  isPlainAbsolute(folder)
    ? `${folder}/${relative}`
    : path.resolve(folder, relative)

/** An absolute POSIX path `path.normalize` leaves as it is and that does not end with `/`. */
const isPlainAbsolute = (folder: string): boolean =>
  folder.startsWith("/") && folder.length > 1 && !folder.endsWith("/") && !folder.includes("//") && !/\/\.\.?(\/|$)/.test(folder)
