/**
 * The lock file, `<pipeline stem>.lock.json` beside the pipeline: meant to be committed, it says
 * exactly what each output was rendered from. Sorted keys, two-space indent, no time stamps and no
 * secrets, so a run that changed nothing leaves its bytes alone and a diff shows only what changed.
 * Written atomically (temporary file, sync, rename): a crash leaves the old or the new lock, whole.
 */
import { Effect } from "effect"
import { open, readFile, rename } from "node:fs/promises"
import { basename, dirname, extname, join } from "node:path"
import { StateCorrupt, stateIo, type StateIoError, writeFully } from "./journal.ts"

export const lockVersion = 1

export interface LockInput {
  /** Relative to the pipeline's folder. */
  readonly path: string
  readonly sha256: string
}

export interface LockEntry {
  readonly fingerprint: string
  readonly model: string
  /** The input files (no audio when the voice is spoken from a script: see `parameters.speech`). */
  readonly inputs: { readonly image: LockInput; readonly audio?: LockInput }
  /** Stage parameters (speech, captions, overlays) when the job has them. */
  readonly parameters: Readonly<Record<string, unknown>>
  readonly videoId: string
  readonly output: { readonly sha256: string; readonly size: number }
  /** The audio's duration, which is what the render is billed on. */
  readonly durationSeconds: number
  readonly costUsd: number
}

export interface LockFile {
  readonly version: number
  readonly pipeline: string
  /** By job id: the output path relative to the project root. */
  readonly outputs: Readonly<Record<string, LockEntry>>
}

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
  assembleLock(lock.version, lock.pipeline, Object.entries(lock.outputs).map(([id, entry]) => [id, serializeLockEntry(entry)] as const))

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v)

/** Reads the lock (a missing one is empty). One that is not valid, or belongs to another pipeline, is refused. */
export const readLockFile = (path: string, pipeline: string): Effect.Effect<LockFile, StateCorrupt> =>
  Effect.gen(function* () {
    const text = yield* Effect.tryPromise(() => readFile(path, "utf8")).pipe(Effect.option)
    if (text._tag === "None") return { version: lockVersion, pipeline, outputs: {} }
    const fail = (reason: string) => Effect.fail(new StateCorrupt({ file: path, line: 1, reason }))
    let parsed: unknown
    try {
      parsed = JSON.parse(text.value)
    } catch (e) {
      return yield* fail(`the lock file is not valid JSON (${e instanceof Error ? e.message : String(e)})`)
    }
    if (!isRecord(parsed) || !isRecord(parsed["outputs"])) return yield* fail("the lock file has no outputs")
    if (parsed["version"] !== lockVersion) return yield* fail(`lock file version ${String(parsed["version"])} is not one this Clapper reads (${lockVersion})`)
    if (parsed["pipeline"] !== pipeline) {
      return yield* fail(`the lock file is for pipeline "${String(parsed["pipeline"])}", not "${pipeline}"`)
    }
    for (const [job, entry] of Object.entries(parsed["outputs"])) {
      if (!isRecord(entry) || typeof entry["fingerprint"] !== "string" || typeof entry["videoId"] !== "string" || !isRecord(entry["output"])) {
        return yield* fail(`the lock entry for "${job}" is incomplete`)
      }
    }
    return parsed as unknown as LockFile
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

export const writeLockFile = (path: string, lock: LockFile): Effect.Effect<void, StateIoError> => writeLockText(path, serializeLock(lock))
