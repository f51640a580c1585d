/**
 * The state port: the one way in to a pipeline's state — the journal (what may exist at the
 * provider), the lock file (what was rendered from what), the recorder that writes both during a
 * run, the runner lock (one run at a time), and the run history (what each past run did, for
 * `clapper log` and the report). Everything above it, the CLI included, opens,
 * reads and unlocks through this service and never knows the state folder's layout.
 *
 * `fileStateStore` is the embedded default: `.clapper/<name>/` beside the pipeline (journal,
 * runner lock, caches, `runs/<N>.ndjson`: see runHistory.ts) and `<stem>.lock.json`. Another store (a database shared by several
 * machines) is another layer of the same service.
 */
import { FileSystem, Path } from "@effect/platform"
import { NodeFileSystem, NodePath } from "@effect/platform-node"
import { Clock, Context, Effect, Layer, Option, Schedule, type Schema, type Scope, type Stream } from "effect"
import { openJournal, readJournal, type StateCorrupt, type StateIoError } from "./journal.ts"
import type { JournalState } from "./journalEntry.ts"
import { lockFilePath, readLockFile, readLockFileAsWritten, type LockFile } from "./lockFile.ts"
import type { QuotaLedger } from "./quotaLedger.ts"
import { rebuildState, type SetAside } from "./rebuildState.ts"
import {
  acquireRunnerLock,
  inspectRunnerLock,
  removeRunnerLock,
  type LockHolder,
  type RunnerLocked,
  type RunnerLockFailed,
  type RunnerLockState
} from "./runnerLock.ts"
import {
  listRuns,
  openRunHistory,
  readRunEvents,
  type RunHistoryUnreadable,
  type RunHistoryWriter,
  type RunList,
  type RunNotFound,
  type RunStart
} from "./runHistory.ts"
import type { SharedCampaign } from "./sharedCampaign.ts"
import { makeStateRecorder, type StateRecorder } from "./stateRecorder.ts"
import { stateDir } from "./stateDir.ts"

/** Which pipeline's state: its name (the state's key) and its file (where the lock file lives). */
export interface StateRef {
  readonly name: string
  /** The pipeline file's absolute path. */
  readonly file: string
  /** The pipeline's project root (pipeline/projectRoot.ts); default its own folder. A shared store keys the campaign by the file's path in it. */
  readonly projectRoot?: string
  /** The state database the pipeline names (`state:`), when the caller provided no store: where `defaultStateStore` keeps it. */
  readonly database?: string
}

/** What a store holds of a pipeline, read as it is now. */
export interface StoredState {
  readonly journal: JournalState
  readonly lock: LockFile
  /** Problems tolerated while reading (a torn last journal line). */
  readonly warnings: ReadonlyArray<string>
}

/** A pipeline's state opened for one run: the run holds it, and writes through `recorder`. */
export interface RunState extends StoredState {
  readonly recorder: StateRecorder
  /** Where generated speech and intermediate videos are kept between stages and runs. */
  readonly cacheDir: string
  /** The stale runner lock (its process gone) this run took over. */
  readonly tookOverFrom: LockHolder | undefined
  /** Unreadable state set aside by `rebuild`. */
  readonly setAside: ReadonlyArray<SetAside>
  /** This run's entry in the run history: every event of the run goes to it, then its end. */
  readonly history: RunHistoryWriter
  /**
   * A store shared by several machines shares each key's quota too: the ledger of the key named
   * `quotaKey` (a digest of key and base URL, never the key). None: the machine's own ledger.
   */
  readonly sharedQuota?: (quotaKey: string) => QuotaLedger
  /** Opened as a worker (`shared`): what this runner needs of the others. Only a shared store has it. */
  readonly shared?: SharedCampaign
}

export interface OpenOptions {
  /** What is running, for whoever finds the runner lock (`clapper run pipelines/x.yaml`). */
  readonly command: string
  /** The pipeline as the user named it, for messages. */
  readonly pipeline: string
  /** Set unreadable state aside and start again from the lock file and the outputs on disk. */
  readonly rebuild: boolean
  /** The jobs in the pipeline now (all of them, also when a run is of a few): lock entries of outputs no longer in it are dropped. */
  readonly jobIds: ReadonlySet<string>
  /** What the run history's header says: the command line as typed (secrets are blanked) and the selection. */
  readonly run: RunStart
  /**
   * When another live run holds the pipeline: wait until it ends (finishes, stops or dies), then
   * take it over and go on from the state it left (a standby runner), instead of refusing.
   * `waiting` is told once, with who holds it.
   */
  readonly wait?: { readonly waiting: (holder: LockHolder | undefined) => Effect.Effect<void> }
  /** Told what happens to a shared store while the run goes on (the database lost, and back). */
  readonly notice?: (message: string) => Effect.Effect<void>
  /** As one of several workers on the campaign (a shared store only; others ignore it and give no `shared`). */
  readonly shared?: boolean
}

export type OpenError = StateCorrupt | StateIoError | RunnerLocked | RunnerLockFailed

export interface StateStoreService {
  /** Takes the runner lock and opens the state for writing, both for the life of the scope. */
  readonly openForRun: (ref: StateRef, options: OpenOptions) => Effect.Effect<RunState, OpenError, Scope.Scope>
  /** Reads the state without taking the runner lock or writing anything (`plan`, `status`). */
  readonly read: (ref: StateRef) => Effect.Effect<StoredState, StateCorrupt | StateIoError>
  /** Who runs the pipeline now, if anyone. */
  readonly runner: (ref: StateRef) => Effect.Effect<RunnerLockState>
  /** Removes the runner lock whoever holds it (`clapper unlock`). */
  readonly unlock: (ref: StateRef) => Effect.Effect<void, RunnerLockFailed>
  /**
   * The pipeline's past runs, oldest first: number, start and end, who and where, command line,
   * selection, how it ended (`finished`, `interrupted`, `refused`, or `killed` when it never
   * wrote its end) with the exit code the CLI gave, jobs done and failed, spend. None when the
   * pipeline was never run.
   */
  readonly runs: (ref: StateRef) => Effect.Effect<RunList, RunHistoryUnreadable | StateIoError>
  /**
   * The events of run `n`, in order, each decoded with `events` (pass the runtime's `RunEvent`:
   * the store does not know the events' shape). A stream: a 10,000-job run is read as it goes.
   * `job.progress` events whose status did not change are not kept.
   */
  readonly runEvents: <A, I>(
    ref: StateRef,
    n: number,
    events: Schema.Schema<A, I>
  ) => Stream.Stream<A, RunHistoryUnreadable | RunNotFound | StateIoError>
}

export class StateStore extends Context.Tag("clapper/StateStore")<StateStore, StateStoreService>() {}

const makeFileStore = Effect.gen(function* () {
  const fs = yield* FileSystem.FileSystem
  const path = yield* Path.Path
  const platform = Layer.merge(Layer.succeed(FileSystem.FileSystem, fs), Layer.succeed(Path.Path, path))
  const dirOf = (ref: StateRef) => stateDir(path.dirname(ref.file), ref.name, path)

  const read = (ref: StateRef) =>
    Effect.gen(function* () {
      const journal = yield* readJournal(dirOf(ref))
      const lock = yield* readLockFile(lockFilePath(ref.file), ref.name)
      return { journal: journal.state, lock, warnings: journal.warnings }
    })

  const openForRun = (ref: StateRef, options: OpenOptions) =>
    Effect.gen(function* () {
      const dir = dirOf(ref)
      const lockPath = lockFilePath(ref.file)
      const acquire = acquireRunnerLock(dir, { command: options.command, pipeline: options.pipeline })
      // A standby run checks again every second while the holder is alive here (it takes over a dead one's lock).
      let told = false
      const taken = options.wait
        ? yield* acquire.pipe(
            Effect.tapError((e) =>
              e._tag === "RunnerLocked" && !told
                ? Effect.zipRight(
                    Effect.sync(() => void (told = true)),
                    options.wait!.waiting(e.holder)
                  )
                : Effect.void
            ),
            Effect.retry({
              while: (e) => e._tag === "RunnerLocked" && e.reason === "alive",
              schedule: Schedule.spaced("1 second")
            })
          )
        : yield* acquire
      const setAside = options.rebuild ? yield* rebuildState(dir, lockPath, ref.name) : []
      const journal = yield* openJournal(dir, ref.name)
      const { lock, asWritten } = yield* readLockFileAsWritten(lockPath, ref.name)
      const recorder = yield* makeStateRecorder({ journal, lockPath, lock, jobIds: options.jobIds, lockAsWritten: asWritten })
      const history = yield* openRunHistory(dir, options.run, new Date(yield* Clock.currentTimeMillis))
      const state: RunState = {
        journal: journal.state,
        lock,
        warnings: journal.warnings,
        recorder,
        cacheDir: dir,
        tookOverFrom: taken.tookOverFrom,
        setAside,
        history
      }
      return state
    }).pipe(Effect.provide(platform))

  const service: StateStoreService = {
    openForRun,
    read,
    runner: (ref) => inspectRunnerLock(dirOf(ref)).pipe(Effect.provide(platform)),
    unlock: (ref) => removeRunnerLock(dirOf(ref)).pipe(Effect.provide(platform)),
    runs: (ref) => listRuns(dirOf(ref)),
    runEvents: (ref, n, events) => readRunEvents(dirOf(ref), ref.name, n, events)
  }
  return service
})

/** The embedded default: files beside the pipeline. */
export const fileStateStore: Layer.Layer<StateStore> = Layer.effect(StateStore, makeFileStore).pipe(
  Layer.provide(Layer.merge(NodeFileSystem.layer, NodePath.layer))
)

/**
 * The store a pipeline chooses itself: the database its `state:` names (the password from
 * PGPASSWORD), else the files beside it. The database's client is loaded only when a pipeline
 * names one, and each use connects for as long as it lasts (a run: the whole run).
 */
const makeDefaultStore = Effect.gen(function* () {
  const files = yield* Effect.provide(StateStore, fileStateStore)
  const onDatabase = <A, E, R>(ref: StateRef, use: (store: StateStoreService) => Effect.Effect<A, E, R>) =>
    Effect.gen(function* () {
      const { parseStateUrl } = yield* Effect.promise(() => import("./postgres/stateUrl.ts"))
      const { postgresStateStore } = yield* Effect.promise(() => import("./postgres/PostgresStateStore.ts"))
      const location = parseStateUrl(ref.database!, "state")
      // Checked when the pipeline was decoded: a string that is no connection string never gets here.
      if (location._tag === "StateUrlInvalid") return yield* Effect.die(location)
      const context = yield* Layer.build(postgresStateStore(location))
      return yield* use(Context.get(context, StateStore))
    })
  const service: StateStoreService = {
    openForRun: (ref, options) =>
      ref.database === undefined ? files.openForRun(ref, options) : onDatabase(ref, (db) => db.openForRun(ref, options)),
    read: (ref) => (ref.database === undefined ? files.read(ref) : Effect.scoped(onDatabase(ref, (db) => db.read(ref)))),
    runner: (ref) => (ref.database === undefined ? files.runner(ref) : Effect.scoped(onDatabase(ref, (db) => db.runner(ref)))),
    unlock: (ref) => (ref.database === undefined ? files.unlock(ref) : Effect.scoped(onDatabase(ref, (db) => db.unlock(ref)))),
    // The run history is the machine's own in either store.
    runs: files.runs,
    runEvents: files.runEvents
  }
  return service
})

/** The pipeline's own choice (its `state:` database, else files): what runs when the caller provides no store. */
export const defaultStateStore: Layer.Layer<StateStore> = Layer.effect(StateStore, makeDefaultStore)

/** The store the caller provided, else the pipeline's own choice: a library user opts into another by providing `StateStore`. */
export const currentStateStore: Effect.Effect<StateStoreService> = Effect.flatMap(
  Effect.serviceOption(StateStore),
  Option.match({ onSome: Effect.succeed, onNone: () => Effect.provide(StateStore, defaultStateStore) })
)
