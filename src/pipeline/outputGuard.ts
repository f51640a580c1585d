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
import { statFiles, type FileStat } from "../media/statFiles.ts"
import { folderRelation, type FolderRelation, isInside, isInsideThrough, joinName, realLocation } from "./projectRoot.ts"

/** A file outputs must leave alone, how to name it ("the input image of …") and why it matters. */
export interface GuardedFile {
  readonly path: string
  readonly what: string
  /** Default: "an output may never overwrite an input". */
  readonly why?: string
  /**
   * Compared by its path only, not by device and inode: a file Clapper itself replaces by a rename
   * (the lock file) has a new inode at every write, and the old one may be reused meanwhile by a
   * file another run is writing (an output), which would then look like it.
   */
  readonly byPathOnly?: boolean
}

export interface OutputGuard {
  /** Why `output` (absolute) may not be written, or undefined when it may. */
  readonly problem: (output: string) => Effect.Effect<string | undefined, never, FileSystem.FileSystem | Path.Path>
  /**
   * `problem` of every output, in order: the same answers, with each folder's links resolved
   * and its entries listed once, and only the outputs that may exist looked up one by one.
   */
  readonly problems: (
    outputs: ReadonlyArray<string>
  ) => Effect.Effect<ReadonlyArray<string | undefined>, never, FileSystem.FileSystem | Path.Path>
}

const identity = (info: FileSystem.File.Info): string | undefined =>
  Option.match(info.ino, { onNone: () => undefined, onSome: (ino) => `${info.dev}:${ino}` })

/**
 * A name as the most lenient file system could take it: letter case (APFS, NTFS), Unicode
 * normalisation (APFS) and trailing dots and blanks (Windows) folded. Two names that any file
 * system may open as one file fold alike; folding some apart names alike only costs a lookup.
 */
const foldName = (name: string): string =>
  name
    .normalize("NFKD")
    .toUpperCase()
    .toLowerCase()
    .replace(/[. ]+$/, "")

/** A file name `path.join` adds as it is: not empty, no `/`, not `.` or `..`. */
const plainName = (name: string): boolean => name !== "" && name !== "." && name !== ".." && !name.includes("/")

/** A name a Windows short ("8.3") name could stand for another file: always looked up. */
const mayBeShortName = (name: string): boolean => name.includes("~")

export const makeOutputGuard = (options: {
  readonly files: Iterable<GuardedFile>
  /** The pipeline's state folder (`stateDir`), which may not exist yet. */
  readonly stateDir: string
}): Effect.Effect<OutputGuard, never, FileSystem.FileSystem | Path.Path> =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const statOf = (p: string) => fs.stat(p).pipe(Effect.option, Effect.map(Option.getOrUndefined))

    // Each guarded file under every name it may be reached by: identity, real path. The real
    // paths are also kept by folder: an output is compared with the few in its own folder.
    const guarded = new Map<string, GuardedFile>()
    const guardedIn = new Map<string, Map<string, GuardedFile>>()
    const remember = (key: string | undefined, file: GuardedFile) => {
      if (key !== undefined && !guarded.has(key)) guarded.set(key, file)
    }
    const rememberPath = (real: string, file: GuardedFile) => {
      const key = `path:${real}`
      if (guarded.has(key)) return
      guarded.set(key, file)
      const folder = path.dirname(real)
      const names = guardedIn.get(folder) ?? new Map<string, GuardedFile>()
      guardedIn.set(folder, names)
      if (!names.has(path.basename(real))) names.set(path.basename(real), file)
    }
    // Inputs share few folders: each folder's real location is found once.
    const realFolders = new Map<string, string>()
    const realFolder = (dir: string) =>
      Effect.gen(function* () {
        const known = realFolders.get(dir)
        if (known !== undefined) return known
        const real = yield* realLocation(dir)
        realFolders.set(dir, real)
        return real
      })
    const seen = new Set<string>()
    const distinct: Array<GuardedFile> = []
    for (const file of options.files) {
      if (seen.has(file.path)) continue
      seen.add(file.path)
      distinct.push(file)
    }
    // Looked up a few at a time (hundreds of inputs), remembered in order: the first file named wins.
    for (const dir of new Set(distinct.map((file) => path.dirname(file.path)))) yield* realFolder(dir)
    const found = yield* Effect.forEach(
      distinct,
      (file) => Effect.all({ file: Effect.succeed(file), info: statOf(file.path), real: realLocation(file.path) }),
      { concurrency: 16 }
    )
    for (const { file, info, real } of found) {
      if (info && file.byPathOnly !== true) remember(identity(info), file)
      rememberPath(real, file)
      // The name itself, when it is a link: renaming onto it replaces the link the pipeline reads.
      rememberPath(path.join(yield* realFolder(path.dirname(file.path)), path.basename(file.path)), file)
    }

    const stateReal = yield* realLocation(options.stateDir)
    const stateInfo = yield* statOf(options.stateDir)
    const stateId = stateInfo ? identity(stateInfo) : undefined
    const stateShown = `${path
      .relative(path.dirname(path.dirname(options.stateDir)), options.stateDir)
      .split(path.sep)
      .join("/")}/`
    const inStateFolder = `is inside the pipeline's state folder ${stateShown}, where Clapper keeps its journal and caches: choose another folder`

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
          problem = inStateFolder
        } else {
          const parent = path.dirname(dir)
          problem = parent === dir ? undefined : yield* folderProblem(parent)
        }
        folders.set(dir, problem)
        return problem
      })

    /**
     * What an output folder holds, once per folder: its real location and where that lies against
     * the state folder, and its entries' folded names (an output whose name is not among them does
     * not exist: no lookup, which for a missing file costs far more than the listing). `names` is
     * undefined when the folder could not be listed for another reason than not existing: then
     * every output in it is looked up.
     */
    interface OutputFolder {
      readonly real: string
      /** `real` is a plain absolute POSIX path (see `joinName`): an entry is `real/name`. */
      readonly plain: boolean
      readonly state: FolderRelation
      /** The state folder's name when this folder holds it. */
      readonly stateName: string | undefined
      readonly problem: string | undefined
      readonly names: ReadonlySet<string> | undefined
      /** The guarded files in this folder, by name. */
      readonly guarded: ReadonlyMap<string, GuardedFile> | undefined
    }
    const outputFolders = new Map<string, OutputFolder>()
    const outputFolder = (dir: string) =>
      Effect.gen(function* () {
        const known = outputFolders.get(dir)
        if (known !== undefined) return known
        const real = yield* realLocation(dir)
        const problem = yield* folderProblem(dir)
        const listed = problem === undefined ? yield* Effect.either(fs.readDirectory(dir)) : undefined
        const names =
          listed === undefined
            ? new Set<string>()
            : listed._tag === "Right"
              ? new Set(listed.right.map(foldName))
              : listed.left._tag === "SystemError" && listed.left.reason === "NotFound"
                ? new Set<string>()
                : undefined
        const folder: OutputFolder = {
          real,
          plain: joinName(real, "x", path) === `${real}/x`,
          state: folderRelation(stateReal, real, path),
          stateName: path.dirname(stateReal) === real ? path.basename(stateReal) : undefined,
          problem,
          names,
          guarded: guardedIn.get(real)
        }
        outputFolders.set(dir, folder)
        return folder
      })

    const clashWith = (file: GuardedFile) => `is ${file.what}: ${file.why ?? "an output may never overwrite an input"}`

    /** Why the output at `entry` (its real folder and name) may not be written, given what a lookup found (`info`). */
    const verdict = (entry: string, info: Pick<FileStat, "type" | "identity"> | undefined): string | undefined => {
      const clash = (info ? guarded.get(info.identity ?? "") : undefined) ?? guarded.get(`path:${entry}`)
      if (clash !== undefined) return clashWith(clash)
      if (info?.type === "Directory")
        return "is an existing folder: an output is a file; end the template with a file name, like {{ image.stem }}.mp4"
      return undefined
    }

    /**
     * What is known of an output without a lookup: its answer, or the entry to look up. In a plain
     * folder (nearly always) the entry is not even written out unless needed: the state folder and
     * the guarded files are compared by name with those in the same folder, which is the same.
     */
    const before = (output: string, folder: OutputFolder): { readonly answer: string | undefined } | { readonly lookUp: string } => {
      const name = path.basename(output)
      const plain = folder.plain && plainName(name)
      const entry = () => (plain ? `${folder.real}/${name}` : joinName(folder.real, name, path))
      const inState = plain
        ? folder.state === "inside" || name === folder.stateName || (folder.state === "root" && isInside(stateReal, entry(), path))
        : entry() === stateReal || isInsideThrough(folder.state, stateReal, entry(), path)
      if (inState) return { answer: inStateFolder }
      if (folder.problem !== undefined) return { answer: folder.problem }
      const mayExist = folder.names === undefined || (folder.names.size > 0 && (mayBeShortName(name) || folder.names.has(foldName(name))))
      if (mayExist) return { lookUp: entry() }
      if (!plain) return { answer: verdict(entry(), undefined) }
      const clash = folder.guarded?.get(name)
      return { answer: clash === undefined ? undefined : clashWith(clash) }
    }

    const problem = (output: string) =>
      Effect.gen(function* () {
        const known = before(output, yield* outputFolder(path.dirname(output)))
        if (!("lookUp" in known)) return known.answer
        const info = yield* statOf(output)
        return verdict(
          known.lookUp,
          info ? { type: info.type === "File" || info.type === "Directory" ? info.type : "Other", identity: identity(info) } : undefined
        )
      })

    const problems = (outputs: ReadonlyArray<string>) =>
      Effect.gen(function* () {
        // Folders first, one at a time: each is listed once, however many outputs it holds.
        const folderOf = new Map<string, OutputFolder>()
        for (const dir of new Set(outputs.map((output) => path.dirname(output)))) folderOf.set(dir, yield* outputFolder(dir))
        const answers: Array<string | undefined> = []
        const lookups: Array<{ readonly index: number; readonly output: string; readonly entry: string }> = []
        for (let index = 0; index < outputs.length; index++) {
          const output = outputs[index]
          if (output === undefined) continue
          const dir = path.dirname(output)
          const known = before(output, folderOf.get(dir) ?? (yield* outputFolder(dir)))
          if ("lookUp" in known) lookups.push({ index, output, entry: known.lookUp })
          else answers[index] = known.answer
        }
        const found = yield* statFiles(lookups.map(({ output }) => output))
        lookups.forEach(({ index, entry }, i) => {
          answers[index] = verdict(entry, found[i])
        })
        return Array.from({ length: outputs.length }, (_, i) => answers[i])
      })

    return { problem, problems }
  })
