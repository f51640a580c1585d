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
import { Data, Deferred, Effect, Queue, type Scope } from "effect"
import { type FileHandle, mkdir, open, readFile, rename, statfs, truncate } from "node:fs/promises"
import { dirname, join } from "node:path"
import { applyEntry, emptyJournalState, journalVersion, toSnapshot, type JournalEntry, type JournalState } from "./journalEntry.ts"

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
}> {
  override get message() {
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

const formatBytes = (n: number) => (n >= 1024 * 1024 ? `${Math.round(n / (1024 * 1024))} MB` : n >= 1024 ? `${Math.round(n / 1024)} KB` : `${n} bytes`)

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

/** Reads and folds a journal; a missing file is an empty journal. */
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
      let entry: JournalEntry
      try {
        entry = JSON.parse(line) as JournalEntry
      } catch {
        // Only the very end can be torn by a crash (no newline after it yet); anything else is damage.
        if (isLast) {
          warnings.push(`${file}:${index + 1}: the last entry was cut short (a crash while writing it); it is ignored`)
          break
        }
        return yield* Effect.fail(new StateCorrupt({ file, line: index + 1, reason: "this line is not valid JSON" }))
      }
      if (entries === 0) {
        if (entry.t !== "header") return yield* Effect.fail(new StateCorrupt({ file, line: index + 1, reason: "the journal does not start with its header" }))
        if (entry.version !== journalVersion) {
          return yield* Effect.fail(
            new StateCorrupt({ file, line: index + 1, reason: `journal version ${entry.version} is not one this Clapper reads (${journalVersion})` })
          )
        }
      }
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
      (h) => Effect.promise(() => h.close())
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
        (p) => (p.done ? (result._tag === "Right" ? Deferred.succeed(p.done, undefined) : Deferred.fail(p.done, result.left)) : Effect.void),
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
