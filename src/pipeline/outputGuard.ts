/**
 * What an output may never be: a file the pipeline reads (any job's image or audio, a data file,
 * the pipeline file itself), the pipeline's lock file, anything inside its state folder
 * (`.clapper/<name>/`: journal, caches), an existing folder, or a path through an existing file.
 * The run replaces an output by renaming a finished download onto it, so a clash destroys the
 * input, after the render was paid for. Checked here, before anything is sent.
 *
 * Files are compared by identity (device and inode, through symlinks), so two spellings of one
 * file (a link, `A.png` and `a.png` on a case-insensitive disk, a hard link) are still one file;
 * real paths stand in where the file system gives no inode.
 */
import { FileSystem, Path } from "@effect/platform"
import { Effect, Option } from "effect"
import { isInside, realLocation } from "./projectRoot.ts"

/** A file outputs must leave alone, how to name it ("the input image of …") and why it matters. */
export interface GuardedFile {
  readonly path: string
  readonly what: string
  /** Default: "an output may never overwrite an input". */
  readonly why?: string
}

export interface OutputGuard {
  /** Why `output` (absolute) may not be written, or undefined when it may. */
  readonly problem: (output: string) => Effect.Effect<string | undefined, never, FileSystem.FileSystem | Path.Path>
}

const identity = (info: FileSystem.File.Info): string | undefined =>
  Option.match(info.ino, { onNone: () => undefined, onSome: (ino) => `${info.dev}:${ino}` })

export const makeOutputGuard = (options: {
  readonly files: Iterable<GuardedFile>
  /** The pipeline's state folder (`stateDir`), which may not exist yet. */
  readonly stateDir: string
}): Effect.Effect<OutputGuard, never, FileSystem.FileSystem | Path.Path> =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const statOf = (p: string) => fs.stat(p).pipe(Effect.option, Effect.map(Option.getOrUndefined))

    // Each guarded file under every name it may be reached by: identity, real path.
    const guarded = new Map<string, GuardedFile>()
    const remember = (key: string | undefined, file: GuardedFile) => {
      if (key !== undefined && !guarded.has(key)) guarded.set(key, file)
    }
    const seen = new Set<string>()
    for (const file of options.files) {
      if (seen.has(file.path)) continue
      seen.add(file.path)
      const info = yield* statOf(file.path)
      if (info) remember(identity(info), file)
      remember(`path:${yield* realLocation(file.path)}`, file)
      // The name itself, when it is a link: renaming onto it replaces the link the pipeline reads.
      remember(`path:${path.join(yield* realLocation(path.dirname(file.path)), path.basename(file.path))}`, file)
    }

    const stateReal = yield* realLocation(options.stateDir)
    const stateInfo = yield* statOf(options.stateDir)
    const stateId = stateInfo ? identity(stateInfo) : undefined
    const stateShown = `${path
      .relative(path.dirname(path.dirname(options.stateDir)), options.stateDir)
      .split(path.sep)
      .join("/")}/`

    /** Per folder: why nothing may be written inside it (a file on the way, the state folder), or undefined. */
    const folders = new Map<string, string | undefined>()
    const folderProblem = (dir: string): Effect.Effect<string | undefined, never, FileSystem.FileSystem | Path.Path> =>
      Effect.gen(function* () {
        if (folders.has(dir)) return folders.get(dir)
        const info = yield* statOf(dir)
        let problem: string | undefined
        if (info && info.type !== "Directory") {
          problem = `goes through "${path.basename(dir)}", which is a file, not a folder: the run could not create the output there`
        } else if (info && stateId !== undefined && identity(info) === stateId) {
          problem = `is inside the pipeline's state folder ${stateShown}, where Clapper keeps its journal and caches: choose another folder`
        } else {
          const parent = path.dirname(dir)
          problem = parent === dir ? undefined : yield* folderProblem(parent)
        }
        folders.set(dir, problem)
        return problem
      })

    const problem = (output: string) =>
      Effect.gen(function* () {
        const entry = path.join(yield* realLocation(path.dirname(output)), path.basename(output))
        if (entry === stateReal || isInside(stateReal, entry, path)) {
          return `is inside the pipeline's state folder ${stateShown}, where Clapper keeps its journal and caches: choose another folder`
        }
        const inFolder = yield* folderProblem(path.dirname(output))
        if (inFolder !== undefined) return inFolder
        const info = yield* statOf(output)
        const clash = (info ? guarded.get(identity(info) ?? "") : undefined) ?? guarded.get(`path:${entry}`)
        if (clash !== undefined) return `is ${clash.what}: ${clash.why ?? "an output may never overwrite an input"}`
        if (info?.type === "Directory")
          return "is an existing folder: an output is a file; end the template with a file name, like {{ image.stem }}.mp4"
        return undefined
      })

    return { problem }
  })
