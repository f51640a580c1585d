/**
 * The journal: `.clapper/<name>/journal.jsonl`, append-only, one JSON entry per line.
 *
 * An entry that announces a remote call is on disk (fsynced) before the call is made, and its
 * answer right after, so a crash at any instant leaves a journal that says what may exist at the
 * provider. Appends are group-committed: entries arriving while a sync is under way share the
 * next one, so a 64-wide run does not wait for 64 syncs in a row. A torn last line (a crash
 * mid-write) is reported and cut off, never fatal; a long journal is compacted on open into a
 * snapshot line.
 */
import { Data, Deferred, Effect, ParseResult, Queue, Schema, type Scope } from "effect"
import { type FileHandle, mkdir, open, readFile, rename, statfs, truncate } from "node:fs/promises"
import { dirname, join } from "node:path"
import { applyEntry, emptyJournalState, JournalEntry, journalVersion, toSnapshot, type JournalState } from "./journalEntry.ts"

export const journalFile = (stateDir: string) => join(stateDir, "journal.jsonl")

/** A state file Clapper cannot trust. Nothing is re-rendered silently: the message gives the way out. */
export class StateCorrupt extends Data.TaggedError("StateCorrupt")<{
  readonly file: string
  readonly line: number
  readonly reason: string
}> {
  override get message() {
    return `${this.file}:${this.line}: ${this.reason}. Nothing was sent. Move the file aside, or run with --rebuild-state to rebuild the state from the lock file and the outputs on disk.`
  }
}

/**
 * The first thing wrong with a value a schema refused, in a few words: `` `code`: expected string,
 * actual 3 ``, `` `job` is missing ``. `skip` leaves out the first segments of the path (a caller
 * that names them itself, like the lock entry's output).
 */
export const schemaProblem = (error: ParseResult.ParseError, skip = 0): string => {
  const issues = ParseResult.ArrayFormatter.formatErrorSync(error)
  const first = issues[0]
  if (first === undefined) return "it does not have the expected shape"
  const path = first.path.slice(skip).map(String).join(".")
  // A union (`"submitting" | "submitted" | …`) reports each member it tried: one message for all.
  const tried = issues
    .filter((i) => i.path.length === first.path.length && i.path.every((key, n) => key === first.path[n]))
    .map((i) => /^Expected (.*), actual (.*)$/s.exec(i.message))
  const actual = tried[0]?.[2]
  const message =
    tried.length > 1 && tried.every((m) => m !== null && m[2] === actual)
      ? `expected ${tried.map((m) => m![1]).join(" | ")}, actual ${actual}`
      : first.message.replace(/^Expected\b/, "expected")
  if (path === "") return message
  return first._tag === "Missing" ? `\`${path}\` is missing` : `\`${path}\`: ${message}`
}

/** Where the first thing wrong with a refused value is: its path of keys (empty: the value itself). */
export const schemaIssuePath = (error: ParseResult.ParseError): ReadonlyArray<PropertyKey> =>
  ParseResult.ArrayFormatter.formatErrorSync(error)[0]?.path ?? []

export interface LoadedJournal {
  readonly state: JournalState
  /** Entries read (a snapshot counts as one). */
  readonly entries: number
  /** Problems tolerated while loading, e.g. a torn last line. */
  readonly warnings: ReadonlyArray<string>
  /** Byte length of the intact part of the file. */
  readonly intactBytes: number
}

/**
 * The state folder cannot be read or written (a full disk, a read-only folder, permissions).
 * During a run this stops every further paid request: a video sent without its record could be
 * paid for twice.
 */
export class StateIoError extends Data.TaggedError("StateIoError")<{
  readonly file: string
  readonly operation: "read" | "write"
  readonly reason: string
  /** Free bytes on the folder's file system when it failed, when known. */
  readonly freeBytes: number | undefined
  /** What to do, when the state is not a folder (a database): replaces the folder's advice. */
  readonly fix?: string
}> {
  override get message() {
    if (this.fix !== undefined) return `cannot ${this.operation} ${this.file}: ${this.reason}. ${this.fix}.`
    const free = this.freeBytes === undefined ? "" : ` (${formatBytes(this.freeBytes)} free there now)`
    const fix =
      this.operation === "write"
        ? `Free at least ${formatBytes(neededBytes)} in ${dirname(this.file)}${free} or make it writable, then run the same command again: nothing is lost, what was sent is recorded`
        : `Make ${this.file} readable, then run the same command again`
    return `cannot ${this.operation} ${this.file}: ${this.reason}. ${fix}.`
  }
}

/** What a campaign's state needs to go on: the journal and the lock file of a few thousand jobs. */
const neededBytes = 16 * 1024 * 1024

const formatBytes = (n: number) =>
  n >= 1024 * 1024 ? `${Math.round(n / (1024 * 1024))} MB` : n >= 1024 ? `${Math.round(n / 1024)} KB` : `${n} bytes`

const describe = (e: unknown) => {
  const code = typeof e === "object" && e !== null ? (e as NodeJS.ErrnoException).code : undefined
  if (code === "ENOSPC") return "no space left on the device (ENOSPC)"
  if (code === "EROFS") return "the file system is read-only (EROFS)"
  if (code === "EACCES" || code === "EPERM") return `permission denied (${code})`
  if (code === "EDQUOT") return "the disk quota is exceeded (EDQUOT)"
  return e instanceof Error ? e.message : String(e)
}

const freeBytesAt = (dir: string): Promise<number | undefined> =>
  statfs(dir).then(
    (s) => Number(s.bavail) * Number(s.bsize),
    () => undefined
  )

/** An fs promise whose failure is a `StateIoError` about `file`. */
export const stateIo = <A>(file: string, operation: "read" | "write", f: () => Promise<A>): Effect.Effect<A, StateIoError> =>
  Effect.tryPromise({ try: f, catch: (e) => e }).pipe(
    Effect.catchAll((e) =>
      Effect.flatMap(
        // Cannot reject: `freeBytesAt` answers `undefined` when the free space cannot be read.
        Effect.promise(() => (operation === "write" ? freeBytesAt(dirname(file)) : Promise.resolve(undefined))),
        (freeBytes) => Effect.fail(new StateIoError({ file, operation, reason: describe(e), freeBytes }))
      )
    )
  )

/**
 * Writes all of `bytes` at the end of the file: a write may take fewer bytes than it was given
 * (a nearly full file system does that without an error); the rest is written again.
 */
export const writeFully = async (handle: FileHandle, bytes: Uint8Array): Promise<void> => {
  let offset = 0
  while (offset < bytes.length) {
    const { bytesWritten } = await handle.write(bytes, offset, bytes.length - offset)
    if (bytesWritten <= 0) throw Object.assign(new Error("the file system accepted no more bytes"), { code: "ENOSPC" })
    offset += bytesWritten
  }
}

const decodeEntry = Schema.decodeUnknownEither(JournalEntry)

/**
 * Reads and folds a journal; a missing file is an empty journal. Each line is decoded with the
 * `JournalEntry` schema: one that is not JSON is a torn write when it is the last (a warning,
 * cut off by `openJournal`) and damage anywhere else; one that is JSON but not an entry is damage,
 * reported with its line and the field at fault.
 */
export const readJournal = (stateDir: string): Effect.Effect<LoadedJournal, StateCorrupt | StateIoError> =>
  Effect.gen(function* () {
    const file = journalFile(stateDir)
    // A missing journal is a fresh start; one that cannot be read is not (that would pay again).
    const text = yield* stateIo(file, "read", () =>
      readFile(file, "utf8").catch((e: NodeJS.ErrnoException) => {
        if (e.code === "ENOENT") return ""
        throw e
      })
    )
    const state = emptyJournalState()
    const warnings: Array<string> = []
    let entries = 0
    let offset = 0
    let intactBytes = 0
    const lines = text.split("\n")
    for (const [index, line] of lines.entries()) {
      const isLast = index === lines.length - 1
      const lineBytes = Buffer.byteLength(line) + (isLast ? 0 : 1)
      if (line.trim() === "") {
        offset += lineBytes
        if (!isLast) intactBytes = offset
        continue
      }
      let json: unknown
      try {
        json = JSON.parse(line)
      } catch {
        // Only the very end can be torn by a crash (no newline after it yet); anything else is damage.
        if (isLast) {
          warnings.push(`${file}:${index + 1}: the last entry was cut short (a crash while writing it); it is ignored`)
          break
        }
        return yield* Effect.fail(new StateCorrupt({ file, line: index + 1, reason: "this line is not valid JSON" }))
      }
      if (entries === 0) {
        // Checked before the entry is decoded: a journal of another version may hold other entries.
        const head = typeof json === "object" && json !== null ? (json as Record<string, unknown>) : undefined
        if (head?.["t"] !== "header") {
          return yield* Effect.fail(new StateCorrupt({ file, line: index + 1, reason: "the journal does not start with its header" }))
        }
        if (head["version"] !== journalVersion) {
          return yield* Effect.fail(
            new StateCorrupt({
              file,
              line: index + 1,
              reason: `journal version ${String(head["version"])} is not one this Clapper reads (${journalVersion})`
            })
          )
        }
      }
      // A line that parses is whole (a torn one never does): one that is not an entry is damage.
      const decoded = decodeEntry(json)
      if (decoded._tag === "Left") {
        return yield* Effect.fail(
          new StateCorrupt({ file, line: index + 1, reason: `this line is not a journal entry (${schemaProblem(decoded.left)})` })
        )
      }
      const entry = decoded.right
      applyEntry(state, entry)
      entries++
      offset += lineBytes
      intactBytes = offset
    }
    return { state, entries, warnings, intactBytes }
  })

export interface Journal {
  /** The folded state, kept current as entries are appended. */
  readonly state: JournalState
  readonly warnings: ReadonlyArray<string>
  /**
   * Appends an entry; with `durable` (the default) it returns once the entry is synced to disk.
   * Once a write or a sync has failed, every append fails: a journal with a hole is not a record.
   */
  readonly append: (entry: JournalEntry, options?: { readonly durable?: boolean }) => Effect.Effect<void, StateIoError>
}

interface Pending {
  readonly line: string
  readonly done: Deferred.Deferred<void, StateIoError> | undefined
}

/** Compact when the journal holds this many more entries than the state it folds into. */
const compactionSlack = 1000

/** Opens (creating, repairing or compacting) the journal for appending until the scope closes. */
export const openJournal = (stateDir: string, pipeline: string): Effect.Effect<Journal, StateCorrupt | StateIoError, Scope.Scope> =>
  Effect.gen(function* () {
    const file = journalFile(stateDir)
    yield* stateIo(file, "write", () => mkdir(dirname(file), { recursive: true }))
    const loaded = yield* readJournal(stateDir)
    const { state } = loaded
    const header = JSON.stringify({ t: "header", version: journalVersion, pipeline } satisfies JournalEntry)
    if (loaded.entries === 0 || loaded.entries > 2 * (state.renders.size + state.outputs.size) + compactionSlack) {
      // Start afresh, or compact: header + snapshot, synced, then renamed over the old journal.
      const temp = `${file}.compact`
      const snapshot = JSON.stringify({ t: "snapshot", state: toSnapshot(state) } satisfies JournalEntry)
      yield* stateIo(file, "write", async () => {
        const handle = await open(temp, "w")
        try {
          await writeFully(handle, Buffer.from(`${header}\n${snapshot}\n`))
          await handle.sync()
        } finally {
          await handle.close()
        }
        await rename(temp, file)
      })
    } else if (loaded.warnings.length > 0) {
      // Cut the torn tail off, so the next entry starts on a line of its own.
      yield* stateIo(file, "write", () => truncate(file, loaded.intactBytes))
    }
    const handle = yield* Effect.acquireRelease(
      stateIo(file, "write", () => open(file, "a")),
      // Ignored: every durable entry was synced before its append returned, and the writes since
      // (`complete` entries) reached the file before the close; losing them costs a status check
      // at the next run, never a render. A finalizer has nowhere to send the error anyway.
      (h) => Effect.ignore(Effect.tryPromise(() => h.close()))
    )
    const queue = yield* Effect.acquireRelease(Queue.unbounded<Pending>(), Queue.shutdown)
    /** Set by the first failed write or sync: nothing is appended after a hole. */
    let broken: StateIoError | undefined
    // The writer: everything queued goes out in one write and one sync.
    const writeBatch = Effect.gen(function* () {
      const first = yield* Queue.take(queue)
      const rest = yield* Queue.takeAll(queue)
      const batch = [first, ...rest]
      const text = batch.map((p) => `${p.line}\n`).join("")
      const written = broken
        ? Effect.fail(broken)
        : stateIo(file, "write", async () => {
            await writeFully(handle, Buffer.from(text))
            if (batch.some((p) => p.done)) await handle.datasync()
          })
      const result = yield* Effect.either(written)
      if (result._tag === "Left") broken ??= result.left
      yield* Effect.forEach(
        batch,
        (p) =>
          p.done ? (result._tag === "Right" ? Deferred.succeed(p.done, undefined) : Deferred.fail(p.done, result.left)) : Effect.void,
        { discard: true }
      )
    })
    yield* Effect.forkScoped(Effect.forever(writeBatch))
    // On close (this finalizer runs before the writer stops and the file closes), what is still
    // queued is written too.
    yield* Effect.addFinalizer(() =>
      Effect.gen(function* () {
        while ((yield* Queue.size(queue)) > 0) yield* writeBatch
      })
    )
    return {
      state,
      warnings: loaded.warnings,
      append: (entry, options) =>
        Effect.gen(function* () {
          if (broken) return yield* Effect.fail(broken)
          applyEntry(state, entry)
          const durable = options?.durable ?? true
          const done = durable ? yield* Deferred.make<void, StateIoError>() : undefined
          yield* Queue.offer(queue, { line: JSON.stringify(entry), done })
          if (done) yield* Deferred.await(done)
        })
    }
  })
