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
import { mkdir, open, readFile, rename, truncate } from "node:fs/promises"
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

const io = <A>(file: string, what: string, f: () => Promise<A>) =>
  Effect.tryPromise({ try: f, catch: (e) => new StateCorrupt({ file, line: 0, reason: `cannot ${what}: ${e instanceof Error ? e.message : String(e)}` }) })

/** Reads and folds a journal; a missing file is an empty journal. */
export const readJournal = (stateDir: string): Effect.Effect<LoadedJournal, StateCorrupt> =>
  Effect.gen(function* () {
    const file = journalFile(stateDir)
    const text = yield* Effect.tryPromise(() => readFile(file, "utf8")).pipe(Effect.orElseSucceed(() => ""))
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
  /** Appends an entry; with `durable` (the default) it returns once the entry is synced to disk. */
  readonly append: (entry: JournalEntry, options?: { readonly durable?: boolean }) => Effect.Effect<void>
}

interface Pending {
  readonly line: string
  readonly done: Deferred.Deferred<void> | undefined
}

/** Compact when the journal holds this many more entries than the state it folds into. */
const compactionSlack = 1000

/** Opens (creating, repairing or compacting) the journal for appending until the scope closes. */
export const openJournal = (stateDir: string, pipeline: string): Effect.Effect<Journal, StateCorrupt, Scope.Scope> =>
  Effect.gen(function* () {
    const file = journalFile(stateDir)
    yield* io(file, "create the state folder", () => mkdir(dirname(file), { recursive: true }))
    const loaded = yield* readJournal(stateDir)
    const { state } = loaded
    const header = JSON.stringify({ t: "header", version: journalVersion, pipeline } satisfies JournalEntry)
    if (loaded.entries === 0 || loaded.entries > 2 * (state.renders.size + state.outputs.size) + compactionSlack) {
      // Start afresh, or compact: header + snapshot, synced, then renamed over the old journal.
      const temp = `${file}.compact`
      const snapshot = JSON.stringify({ t: "snapshot", state: toSnapshot(state) } satisfies JournalEntry)
      yield* io(file, "write the journal", async () => {
        const handle = await open(temp, "w")
        try {
          await handle.writeFile(`${header}\n${snapshot}\n`)
          await handle.sync()
        } finally {
          await handle.close()
        }
        await rename(temp, file)
      })
    } else if (loaded.warnings.length > 0) {
      // Cut the torn tail off, so the next entry starts on a line of its own.
      yield* io(file, "repair the journal", () => truncate(file, loaded.intactBytes))
    }
    const handle = yield* Effect.acquireRelease(
      io(file, "open the journal", () => open(file, "a")),
      (h) => Effect.promise(() => h.close())
    )
    const queue = yield* Effect.acquireRelease(Queue.unbounded<Pending>(), Queue.shutdown)
    // The writer: everything queued goes out in one write and one sync.
    const writeBatch = Effect.gen(function* () {
      const first = yield* Queue.take(queue)
      const rest = yield* Queue.takeAll(queue)
      const batch = [first, ...rest]
      const text = batch.map((p) => `${p.line}\n`).join("")
      const written = yield* Effect.either(
        io(file, "append to the journal", async () => {
          await handle.write(text)
          if (batch.some((p) => p.done)) await handle.datasync()
        })
      )
      // A journal that cannot be written is a defect: going on would risk paying twice.
      yield* Effect.forEach(batch, (p) => (p.done ? (written._tag === "Right" ? Deferred.succeed(p.done, undefined) : Deferred.die(p.done, written.left)) : Effect.void), {
        discard: true
      })
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
          applyEntry(state, entry)
          const durable = options?.durable ?? true
          const done = durable ? yield* Deferred.make<void>() : undefined
          yield* Queue.offer(queue, { line: JSON.stringify(entry), done })
          if (done) yield* Deferred.await(done)
        })
    }
  })
