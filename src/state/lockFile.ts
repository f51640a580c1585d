/**
 * The lock file, `<pipeline stem>.lock.json` beside the pipeline: meant to be committed, it says
 * exactly what each output was rendered from. Sorted keys, two-space indent, no time stamps and no
 * secrets, so a run that changed nothing leaves its bytes alone and a diff shows only what changed.
 * Written atomically (temporary file, sync, rename): a crash leaves the old or the new lock, whole.
 */
import { Effect, Schema } from "effect"
import { open, readFile, rename } from "node:fs/promises"
import { basename, dirname, extname, join } from "node:path"
import { schemaIssuePath, schemaProblem, StateCorrupt, stateIo, type StateIoError, writeFully } from "./journal.ts"

export const lockVersion = 1

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

const sortingReplacer = (_: string, value: unknown) =>
  value !== null && typeof value === "object" && !Array.isArray(value)
    ? Object.fromEntries(Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
    : value

/** One entry's stable text (keys sorted at every level); a writer may keep it, entries rarely change. */
export const serializeLockEntry = (entry: LockEntry): string => JSON.stringify(entry, sortingReplacer, 2)

const byKey = <A>(a: readonly [string, A], b: readonly [string, A]) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)

/**
 * The lock file's text from its entries' texts: exactly what `JSON.stringify` with sorted keys and
 * two-space indents gives for the whole lock, without re-serialising every entry on each write.
 */
export const assembleLock = (version: number, pipeline: string, entries: Iterable<readonly [string, string]>): string => {
  const body = [...entries]
    .sort(byKey)
    .map(([id, text]) => `    ${JSON.stringify(id)}: ${text.replace(/\n/g, "\n    ")}`)
    .join(",\n")
  return `{\n  "outputs": {${body === "" ? "" : `\n${body}\n  `}},\n  "pipeline": ${JSON.stringify(pipeline)},\n  "version": ${version}\n}\n`
}

/** Stable text: keys sorted at every level. */
export const serializeLock = (lock: LockFile): string =>
  assembleLock(
    lock.version,
    lock.pipeline,
    Object.entries(lock.outputs).map(([id, entry]) => [id, serializeLockEntry(entry)] as const)
  )

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v)

const decodeLock = Schema.decodeUnknownEither(LockFile)

/** The line of `text` where the key `job` is written (the lock's own layout), else 1. */
const lineOfKey = (text: string, job: string): number => {
  const at = text.indexOf(`${JSON.stringify(job)}:`)
  return at < 0 ? 1 : text.slice(0, at).split("\n").length
}

/**
 * Reads the lock (a missing one is empty) and decodes it with the `LockFile` schema. One that is
 * not valid, or belongs to another pipeline, is refused, naming the entry and the field at fault;
 * one that cannot be read is a `StateIoError` (never taken for a missing one: that would render
 * everything again).
 */
export const readLockFile = (path: string, pipeline: string): Effect.Effect<LockFile, StateCorrupt | StateIoError> =>
  Effect.gen(function* () {
    const text = yield* stateIo(path, "read", () =>
      readFile(path, "utf8").catch((e: NodeJS.ErrnoException) => {
        if (e.code === "ENOENT") return undefined
        throw e
      })
    )
    if (text === undefined) return { version: lockVersion, pipeline, outputs: {} }
    const fail = (reason: string, line = 1) => Effect.fail(new StateCorrupt({ file: path, line, reason }))
    let parsed: unknown
    try {
      parsed = JSON.parse(text)
    } catch (e) {
      return yield* fail(`the lock file is not valid JSON (${e instanceof Error ? e.message : String(e)})`)
    }
    // Version and pipeline first: a lock of another version or pipeline says so, whatever it holds.
    if (!isRecord(parsed) || !isRecord(parsed["outputs"])) return yield* fail("the lock file has no outputs")
    if (parsed["version"] !== lockVersion)
      return yield* fail(`lock file version ${String(parsed["version"])} is not one this Clapper reads (${lockVersion})`)
    if (parsed["pipeline"] !== pipeline) {
      return yield* fail(`the lock file is for pipeline "${String(parsed["pipeline"])}", not "${pipeline}"`)
    }
    const decoded = decodeLock(parsed)
    if (decoded._tag === "Right") return decoded.right
    const where = schemaIssuePath(decoded.left)
    if (where[0] === "outputs" && where.length >= 2) {
      const job = String(where[1])
      return yield* fail(`the lock entry for "${job}" is not valid (${schemaProblem(decoded.left, 2)})`, lineOfKey(text, job))
    }
    return yield* fail(`the lock file is not valid (${schemaProblem(decoded.left)})`)
  })

/** Writes the lock's text atomically, and only when it changed (`previous`: what the file holds, when known). */
export const writeLockText = (path: string, text: string, previous?: string): Effect.Effect<void, StateIoError> =>
  stateIo(path, "write", async () => {
    const current = previous ?? (await readFile(path, "utf8").catch(() => undefined))
    if (current === text) return
    const temp = `${path}.tmp`
    const handle = await open(temp, "w")
    try {
      await writeFully(handle, Buffer.from(text))
      await handle.sync()
    } finally {
      await handle.close()
    }
    await rename(temp, path)
  })
