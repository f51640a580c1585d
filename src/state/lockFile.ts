/**
 * The lock file, `<pipeline stem>.lock.json` beside the pipeline: meant to be committed, it says
 * exactly what each output was rendered from. One line per output, sorted (the layout: lockText.ts),
 * no time stamps and no secrets, so a run that changed nothing leaves its bytes alone and a diff
 * shows only the outputs that changed. Written atomically (temporary file, sync, rename): a crash
 * leaves the old or the new lock, whole. Version 1 (pretty JSON) is read, and written again as 2.
 */
import { randomBytes } from "node:crypto"
import { Effect, Either, type ParseResult, Schema } from "effect"
import { open, readFile, rename, rm } from "node:fs/promises"
import { basename, dirname, extname, join } from "node:path"
import { fileLines } from "./fileLines.ts"
import { schemaIssuePath, schemaProblem, StateCorrupt, stateIo, type StateIoError, writeFully } from "./journal.ts"
import { makeLockLines } from "./lockLines.ts"
import {
  type EntryLine,
  isPlainEntry,
  lockFooter,
  lockLine,
  lockVersion,
  parseEntryLine,
  parseHeaderLine,
  readableLockVersions
} from "./lockText.ts"

export { lockVersion } from "./lockText.ts"

const described = <S extends Schema.Schema.Any>(schema: S, description: string) => schema.annotations({ description }) as S

export const LockInput = Schema.Struct({
  path: described(Schema.String, "Relative to the pipeline's folder."),
  sha256: Schema.String
}).annotations({ identifier: "LockInput" })
export type LockInput = typeof LockInput.Type

export const LockEntry = Schema.Struct({
  fingerprint: Schema.String,
  model: Schema.String,
  inputs: described(
    Schema.Struct({ image: LockInput, audio: Schema.optionalWith(LockInput, { exact: true }) }),
    "The input files (no audio when the voice is spoken from a script: see `parameters.speech`)."
  ),
  parameters: described(
    Schema.Record({ key: Schema.String, value: Schema.Unknown }),
    "Stage parameters (speech, captions, overlays) when the job has them."
  ),
  videoId: Schema.String,
  output: Schema.Struct({ sha256: Schema.String, size: Schema.Number }),
  durationSeconds: described(Schema.Number, "The audio's duration, which is what the render is billed on."),
  costUsd: Schema.Number
}).annotations({ identifier: "LockEntry", description: "What one output was rendered from, and what it cost." })
export type LockEntry = typeof LockEntry.Type

export const LockFile = Schema.Struct({
  version: Schema.Number,
  pipeline: Schema.String,
  outputs: described(Schema.Record({ key: Schema.String, value: LockEntry }), "By job id: the output path relative to the project root.")
}).annotations({ identifier: "LockFile" })
export type LockFile = typeof LockFile.Type

export const lockFilePath = (pipelinePath: string) =>
  join(dirname(pipelinePath), `${basename(pipelinePath, extname(pipelinePath))}.lock.json`)

/** The text Clapper writes for `lock` (always the current version: a lock read as version 1 is written as 2). */
export const serializeLock = (lock: LockFile): string => {
  const lines = makeLockLines()
  for (const [id, entry] of Object.entries(lock.outputs)) lines.set(id, entry)
  return lines.bytes(lock.pipeline).toString("utf8")
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v)

const decodeLock = Schema.decodeUnknownEither(LockFile)
const decodeEntry = Schema.decodeUnknownEither(LockEntry)

/** Why a lock of this version and pipeline is refused, whatever it holds; `undefined` when it is not. */
const headRefusal = (version: unknown, found: unknown, pipeline: string): string | undefined => {
  if (typeof version !== "number" || !readableLockVersions.includes(version))
    return `lock file version ${String(version)} is not one this Clapper reads (${readableLockVersions.join(" or ")})`
  if (found !== pipeline) return `the lock file is for pipeline "${String(found)}", not "${pipeline}"`
  return undefined
}

const entryRefusal = (job: string, problem: string) => `the lock entry for "${job}" is not valid (${problem})`

type LayoutRead =
  | { readonly _tag: "Missing" }
  | { readonly _tag: "Read"; readonly lock: LockFile; readonly canonical: boolean }
  | { readonly _tag: "Refused"; readonly line: number; readonly reason: string }
  /** Not in the layout Clapper writes (a version 1 file, a hand-edited one): read as JSON instead. */
  | { readonly _tag: "OtherLayout" }

const otherLayout: LayoutRead = { _tag: "OtherLayout" }

/**
 * Reads a lock in the layout Clapper writes, line by line, each entry decoded on its own so a
 * refusal names its line. Stops at the first line out of that layout. Never rejects but for I/O.
 */
const readInLayout = async (path: string, pipeline: string): Promise<LayoutRead> => {
  // Each entry with its line. Refused only once the whole file is read: an id written twice is,
  // as JSON.parse has it, its last entry, whatever the first holds.
  const entries = new Map<string, { readonly decoded: Either.Either<LockEntry, ParseResult.ParseError>; readonly line: number }>()
  let version = lockVersion
  let lineNumber = 0
  // After the header, or an entry ending with a comma: another entry (or, first, the footer).
  let more = true
  let ended = false
  // Every line exactly as Clapper writes it, ids ascending: the file is what a write would give.
  let canonical = true
  let lastId: string | undefined
  try {
    for await (const line of fileLines(path)) {
      lineNumber++
      if (lineNumber === 1) {
        const head = parseHeaderLine(line)
        if (head === undefined) return otherLayout
        const refusal = headRefusal(head.version, head.pipeline, pipeline)
        if (refusal !== undefined) return { _tag: "Refused", line: 1, reason: refusal }
        version = head.version as number
      } else if (ended) {
        // Only the "" after the last newline.
        if (line !== "") return otherLayout
      } else if (line === lockFooter) {
        // A comma before the footer is not JSON: that is for JSON.parse to report.
        if (more && entries.size > 0) return otherLayout
        ended = true
      } else {
        const parsed: EntryLine | undefined = more ? parseEntryLine(line) : undefined
        if (parsed === undefined) return otherLayout
        const plain = isPlainEntry(parsed.entry as LockEntry)
        entries.set(parsed.id, {
          decoded: plain ? Either.right(parsed.entry as LockEntry) : decodeEntry(parsed.entry),
          line: lineNumber
        })
        canonical &&=
          plain &&
          (lastId === undefined || lastId < parsed.id) &&
          lockLine(parsed.id, parsed.entry as LockEntry) === (parsed.more ? line.slice(0, -1) : line)
        lastId = parsed.id
        more = parsed.more
      }
    }
  } catch (e) {
    if (lineNumber === 0 && (e as NodeJS.ErrnoException).code === "ENOENT") return { _tag: "Missing" }
    throw e
  }
  if (!ended) return otherLayout
  const outputs: Array<readonly [string, LockEntry]> = []
  for (const [id, { decoded, line }] of entries) {
    if (decoded._tag === "Left") return { _tag: "Refused", line, reason: entryRefusal(id, schemaProblem(decoded.left)) }
    outputs.push([id, decoded.right])
  }
  return {
    _tag: "Read",
    lock: { version, pipeline, outputs: Object.fromEntries(outputs) },
    canonical: canonical && version === lockVersion
  }
}

/** The line of `text` where the key `job` is written (either version's layout), else 1. */
const lineOfKey = (text: string, job: string): number => {
  const at = text.indexOf(`${JSON.stringify(job)}:`)
  return at < 0 ? 1 : lineAt(text, at)
}

const lineAt = (text: string, offset: number) => text.slice(0, offset).split("\n").length

/** Any lock that is valid JSON, read whole: version 1, or version 2 edited by hand. */
const readAsJson = (path: string, text: string, pipeline: string): Effect.Effect<LockFile, StateCorrupt> => {
  const fail = (reason: string, line = 1) => Effect.fail(new StateCorrupt({ file: path, line, reason }))
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e)
    const at = /at position (\d+)/.exec(message)
    return fail(`the lock file is not valid JSON (${message})`, at === null ? 1 : lineAt(text, Number(at[1])))
  }
  // Version and pipeline first: a lock of another version or pipeline says so, whatever it holds.
  if (!isRecord(parsed) || !isRecord(parsed["outputs"])) return fail("the lock file has no outputs")
  const refusal = headRefusal(parsed["version"], parsed["pipeline"], pipeline)
  if (refusal !== undefined) return fail(refusal)
  const decoded = decodeLock(parsed)
  if (decoded._tag === "Right") return Effect.succeed(decoded.right)
  const where = schemaIssuePath(decoded.left)
  if (where[0] === "outputs" && where.length >= 2) {
    const job = String(where[1])
    return fail(entryRefusal(job, schemaProblem(decoded.left, 2)), lineOfKey(text, job))
  }
  return fail(`the lock file is not valid (${schemaProblem(decoded.left)})`)
}

/**
 * Reads the lock (a missing one is empty) and decodes it with the `LockFile` schema: line by line
 * when it is in the layout Clapper writes, else (version 1, a hand-edited file) whole as JSON. One
 * that is not valid, of a version this Clapper does not read, or of another pipeline, is refused,
 * naming the line, the entry and the field at fault; one that cannot be read is a `StateIoError`
 * (never taken for a missing one: that would render everything again).
 */
export const readLockFile = (path: string, pipeline: string): Effect.Effect<LockFile, StateCorrupt | StateIoError> =>
  Effect.map(readLockFileAsWritten(path, pipeline), (read) => read.lock)

/**
 * `readLockFile`, and whether the file is byte for byte what writing that lock gives (the current
 * version, every line as Clapper writes it): a run that changes nothing then need not write it.
 */
export const readLockFileAsWritten = (
  path: string,
  pipeline: string
): Effect.Effect<{ readonly lock: LockFile; readonly asWritten: boolean }, StateCorrupt | StateIoError> =>
  Effect.gen(function* () {
    const read = yield* stateIo(path, "read", () => readInLayout(path, pipeline))
    switch (read._tag) {
      case "Missing":
        return { lock: { version: lockVersion, pipeline, outputs: {} }, asWritten: false }
      case "Read":
        return { lock: read.lock, asWritten: read.canonical }
      case "Refused":
        return yield* Effect.fail(new StateCorrupt({ file: path, line: read.line, reason: read.reason }))
      case "OtherLayout":
        return { lock: yield* readAsJson(path, yield* stateIo(path, "read", () => readFile(path, "utf8")), pipeline), asWritten: false }
    }
  })

/**
 * Writes the lock's bytes atomically: temporary file, sync, rename (a crash leaves the old or the
 * new, whole). The temporary file is the writer's own: workers of one campaign on a shared file
 * system write the same lock file as they end.
 */
export const replaceLockFile = (path: string, bytes: Uint8Array): Effect.Effect<void, StateIoError> =>
  stateIo(path, "write", async () => {
    const temp = `${path}.${process.pid}-${randomBytes(4).toString("hex")}.tmp`
    const handle = await open(temp, "w")
    try {
      try {
        await writeFully(handle, bytes)
        await handle.sync()
      } finally {
        await handle.close()
      }
      await rename(temp, path)
    } catch (error) {
      // Not written: no temporary file is left beside the pipeline (each writer's has its own name).
      await rm(temp, { force: true }).catch(() => undefined)
      throw error
    }
  })

/** `replaceLockFile`, only when the bytes differ from what the file holds (read to compare). */
export const writeLockFile = (path: string, bytes: Uint8Array): Effect.Effect<void, StateIoError> =>
  Effect.flatMap(
    stateIo(path, "read", () => readFile(path).catch(() => undefined)),
    (current) => (current !== undefined && current.equals(bytes) ? Effect.void : replaceLockFile(path, bytes))
  )
