/**
 * One run at a time per pipeline (DESIGN.md, "Jobs, fingerprints, state"): `runner.lock` in the
 * pipeline's state folder (`.clapper/<name>/`) names the process that is running it:
 * `{ "version": 1, "pid", "host", "startedAt", "command", "procStart"?, "bootId"? }`.
 * `procStart` and `bootId` say which process that pid was, on Linux: the writer's start time
 * (field 22 of `/proc/self/stat`, clock ticks since boot) and the kernel's boot id
 * (`/proc/sys/kernel/random/boot_id`). They are absent on other systems (or where `/proc` cannot
 * be read) and in locks written before they existed; such locks are judged by `kill(pid, 0)` alone.
 *
 * - Taking the lock is one exclusive create: the full record is written to a private temporary
 *   file and hard-linked to `runner.lock`, which fails if the name exists (O_EXCL semantics, and a
 *   racing reader never sees a half-written lock). Where hard links are not supported it falls
 *   back to `open(…, "wx")` directly.
 * - A lock held by a live process on this host refuses the run. A lock whose process is gone is
 *   stale and is taken over. Gone means, on the same host: the lock's `bootId` is not this boot's
 *   (the machine restarted since), or `/proc/<pid>/stat` shows a start time other than the lock's
 *   `procStart` (the pid now belongs to another process), or `kill(pid, 0)` answers ESRCH. When
 *   `/proc` cannot tell, `kill(pid, 0)` alone decides (see `holderStatus`). Taking over is
 *   serialised by a second exclusive file, `runner.lock.takeover`, so two runners finding the
 *   same stale lock cannot both replace it and both win; the holder of that guard checks the
 *   lock is still the stale one and replaces it with a rename, so the name is never free.
 * - A lock from another host, or one that cannot be read, is never taken silently: a person
 *   decides, with `clapper unlock FILE`.
 * - The lock is released when the scope closes (including on interruption), and only if it is
 *   still this run's (same pid, host and start time).
 */
import { FileSystem, Path } from "@effect/platform"
import type { PlatformError } from "@effect/platform/Error"
import { Effect, Option, ParseResult, Schema, type Scope } from "effect"
import { randomBytes } from "node:crypto"
import { readFileSync } from "node:fs"
import { hostname } from "node:os"

/** The lock's file name inside the pipeline's state folder. */
export const runnerLockName = "runner.lock"
/** Held only while a stale lock is being replaced. */
const takeoverSuffix = ".takeover"

/** Who holds a runner lock. */
export const LockHolder = Schema.Struct({
  pid: Schema.Int.pipe(Schema.positive()),
  host: Schema.String.pipe(Schema.minLength(1)),
  startedAt: Schema.String,
  command: Schema.String,
  /** Linux: the holder's start time, field 22 of `/proc/<pid>/stat` (clock ticks since boot). */
  procStart: Schema.optional(Schema.NonNegativeInt),
  /** Linux: `/proc/sys/kernel/random/boot_id` when the lock was written. */
  bootId: Schema.optional(Schema.String.pipe(Schema.minLength(1)))
})
export interface LockHolder extends Schema.Schema.Type<typeof LockHolder> {}

const LockFileContent = Schema.Struct({ version: Schema.Literal(1), ...LockHolder.fields })

/** A run of this pipeline cannot start: someone holds its lock, or might. */
export class RunnerLocked extends Schema.TaggedError<RunnerLocked>()("RunnerLocked", {
  lockFile: Schema.String,
  /** The pipeline file as the user named it, when the caller said (used in the message). */
  pipeline: Schema.optional(Schema.String),
  /** Absent when the lock cannot be read. */
  holder: Schema.optional(LockHolder),
  /** `workers`: held by workers sharing the campaign (`clapper worker`), which a run alone waits for. */
  reason: Schema.Literal("alive", "otherHost", "unreadable", "workers"),
  /** Why an unreadable lock cannot be read. */
  problem: Schema.optional(Schema.String)
}) {
  override get message(): string {
    const subject = this.pipeline ?? this.lockFile
    const unlock = this.pipeline === undefined ? "run clapper unlock on its pipeline file" : `run clapper unlock ${this.pipeline}`
    const by = this.holder === undefined ? "another process" : describeHolder(this.holder)
    switch (this.reason) {
      case "alive":
        return `${subject} is being run by ${by}: wait for it, or if it is gone, ${unlock}`
      case "otherHost":
        return `${subject} is being run by ${by}, and this machine cannot tell whether that run is still going: once you know it is gone, ${unlock}`
      case "workers":
        return `${subject} is being worked by workers (clapper worker): join them with clapper worker ${this.pipeline ?? "FILE"} and the same --state, or wait until they end`
      case "unreadable":
        return `${subject}: its runner lock ${this.lockFile} cannot be read (${this.problem ?? "unknown problem"}): if no run of it is going, ${unlock}`
    }
  }
}

/** The lock file could not be created or removed (permissions, a read-only or missing folder). */
export class RunnerLockFailed extends Schema.TaggedError<RunnerLockFailed>()("RunnerLockFailed", {
  lockFile: Schema.String,
  action: Schema.Literal("create", "remove"),
  problem: Schema.String
}) {
  override get message(): string {
    return `cannot ${this.action} the runner lock ${this.lockFile}: ${this.problem}`
  }
}

/** `pid 1234 on host-a since 2026-…` */
export const describeHolder = (holder: LockHolder): string => `pid ${holder.pid} on ${holder.host} since ${holder.startedAt}`

/** Whether the holder's process is running: only knowable for this host. */
export type HolderStatus = "alive" | "dead" | "otherHost"

/**
 * On this host, the holder is gone when the lock's `bootId` is not this boot's, or when the
 * lock's `procStart` differs from the start time `/proc/<pid>/stat` shows (the pid was reused).
 * Otherwise (the tokens match or are absent, or `/proc` cannot be read: no such pid, another
 * system, hidden processes) `kill(pid, 0)` decides: it sends nothing and reports whether the
 * process exists: success or EPERM (it exists, owned by someone else) mean alive, ESRCH means
 * gone. Anything else counts as alive: when in doubt, the lock holds.
 */
export const holderStatus = (holder: LockHolder, thisHost: string = hostname()): HolderStatus => {
  if (holder.host !== thisHost) return "otherHost"
  if (holder.bootId !== undefined) {
    const bootId = thisBootId()
    if (bootId !== undefined && bootId !== holder.bootId) return "dead"
  }
  if (holder.procStart !== undefined) {
    const procStart = processStart(holder.pid)
    if (procStart !== undefined && procStart !== holder.procStart) return "dead"
  }
  try {
    process.kill(holder.pid, 0)
    return "alive"
  } catch (error) {
    return isErrno(error) && error.code === "ESRCH" ? "dead" : "alive"
  }
}

/** What is in a state folder's lock right now (for `clapper status` and `clapper unlock`). */
export type RunnerLockState =
  | { readonly _tag: "Absent"; readonly lockFile: string }
  | { readonly _tag: "Held"; readonly lockFile: string; readonly holder: LockHolder; readonly status: HolderStatus }
  | { readonly _tag: "Unreadable"; readonly lockFile: string; readonly problem: string }
  /** Workers share the campaign (`clapper worker`, a shared store only): how many. */
  | { readonly _tag: "Workers"; readonly lockFile: string; readonly count: number }

export const inspectRunnerLock = (stateDir: string): Effect.Effect<RunnerLockState, never, FileSystem.FileSystem | Path.Path> =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const lockFile = path.join(stateDir, runnerLockName)
    const seen = yield* readLock(fs, lockFile)
    switch (seen._tag) {
      case "Absent":
        return { _tag: "Absent", lockFile }
      case "Unreadable":
        return { _tag: "Unreadable", lockFile, problem: seen.problem }
      case "Held":
        return { _tag: "Held", lockFile, holder: seen.holder, status: holderStatus(seen.holder) }
    }
  })

/** Who holds the lock, if anyone. A lock that cannot be read fails: it does refuse a run. */
export const readRunnerLock = (
  stateDir: string,
  pipeline?: string
): Effect.Effect<Option.Option<LockHolder>, RunnerLocked, FileSystem.FileSystem | Path.Path> =>
  Effect.flatMap(inspectRunnerLock(stateDir), (state) => {
    switch (state._tag) {
      case "Absent":
        return Effect.succeed(Option.none())
      case "Held":
        return Effect.succeed(Option.some(state.holder))
      case "Workers":
        return Effect.succeed(Option.none())
      case "Unreadable":
        return Effect.fail(
          new RunnerLocked({
            lockFile: state.lockFile,
            ...(pipeline === undefined ? {} : { pipeline }),
            reason: "unreadable",
            problem: state.problem
          })
        )
    }
  })

/** Removes the lock whoever holds it (and a takeover left half-done). Nothing there is fine. */
export const removeRunnerLock = (stateDir: string): Effect.Effect<void, RunnerLockFailed, FileSystem.FileSystem | Path.Path> =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const lockFile = path.join(stateDir, runnerLockName)
    for (const file of [lockFile, `${lockFile}${takeoverSuffix}`]) {
      yield* fs.remove(file).pipe(
        Effect.catchIf(isNotFound, () => Effect.void),
        Effect.mapError((e) => new RunnerLockFailed({ lockFile: file, action: "remove", problem: e.message }))
      )
    }
  })

export interface RunnerLockInfo {
  /** What is running, for the person who finds the lock: e.g. `clapper run pipelines/x.yaml`. */
  readonly command: string
  /** The pipeline file as the user named it, for messages (`clapper unlock <pipeline>`). */
  readonly pipeline?: string
}

export interface RunnerLockAcquired {
  /** The stale lock (its process gone) this run replaced: worth a warning. */
  readonly tookOverFrom?: LockHolder
}

/** Attempts before giving up when the lock keeps changing under us (appears, vanishes, …). */
const maxAttempts = 5

/**
 * Takes the pipeline's runner lock for the life of the scope. Fails with `RunnerLocked` when
 * another run holds it (or may), with `RunnerLockFailed` when the file cannot be written at all.
 */
export const acquireRunnerLock = (
  stateDir: string,
  info: RunnerLockInfo
): Effect.Effect<RunnerLockAcquired, RunnerLocked | RunnerLockFailed, FileSystem.FileSystem | Path.Path | Scope.Scope> =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const lockFile = path.join(stateDir, runnerLockName)
    const guardFile = `${lockFile}${takeoverSuffix}`
    const me: LockHolder = {
      pid: process.pid,
      host: hostname(),
      startedAt: new Date().toISOString(),
      command: info.command,
      ...thisProcessIdentity()
    }
    const text = `${JSON.stringify({ version: 1, ...me }, null, 2)}\n`

    const locked = (
      file: string,
      reason: RunnerLocked["reason"],
      details: { readonly holder?: LockHolder | undefined; readonly problem?: string | undefined } = {}
    ) =>
      new RunnerLocked({
        lockFile: file,
        reason,
        ...(info.pipeline === undefined ? {} : { pipeline: info.pipeline }),
        ...(details.holder === undefined ? {} : { holder: details.holder }),
        ...(details.problem === undefined ? {} : { problem: details.problem })
      })

    const refuse = (holder: LockHolder) => locked(lockFile, holderStatus(holder) === "otherHost" ? "otherHost" : "alive", { holder })

    /** Replaces a stale lock, holding the takeover guard; `undefined` means "look again". */
    const takeOver = (stale: LockHolder): Effect.Effect<RunnerLockAcquired | undefined, RunnerLocked | PlatformError> =>
      Effect.gen(function* () {
        if (!(yield* publish(fs, guardFile, text))) {
          const guard = yield* readLock(fs, guardFile)
          switch (guard._tag) {
            case "Absent":
              return undefined
            case "Unreadable":
              return yield* Effect.fail(locked(guardFile, "unreadable", { problem: guard.problem }))
            case "Held":
              // Its taker died in the middle of a takeover: clear the guard and look again.
              if (holderStatus(guard.holder) === "dead") {
                yield* fs.remove(guardFile).pipe(Effect.ignore)
                return undefined
              }
              // Another runner is replacing the stale lock right now: it is the one that will run.
              return yield* Effect.fail(refuse(guard.holder))
          }
        }
        return yield* Effect.gen(function* () {
          // Under the guard, only `clapper unlock` or a fresh create can change the lock: check it
          // is still the stale one we saw before replacing it.
          const again = yield* readLock(fs, lockFile)
          if (again._tag !== "Held" || !sameRun(again.holder, stale)) return undefined
          // Replaced in one rename: the name never goes missing, so no fresh create can slip in
          // between (which would leave this run with a stale lock removed and no lock of its own).
          yield* replace(fs, lockFile, text)
          return { tookOverFrom: stale }
        }).pipe(Effect.ensuring(fs.remove(guardFile).pipe(Effect.ignore)))
      })

    const attempt = (left: number): Effect.Effect<RunnerLockAcquired, RunnerLocked | PlatformError> =>
      Effect.gen(function* () {
        if (yield* publish(fs, lockFile, text)) return {}
        const seen = yield* readLock(fs, lockFile)
        let lastHolder: LockHolder | undefined
        switch (seen._tag) {
          case "Absent":
            break // released between our create and our read
          case "Unreadable":
            return yield* Effect.fail(locked(lockFile, "unreadable", { problem: seen.problem }))
          case "Held": {
            lastHolder = seen.holder
            if (holderStatus(seen.holder) !== "dead") return yield* Effect.fail(refuse(seen.holder))
            const taken = yield* takeOver(seen.holder)
            if (taken !== undefined) return taken
          }
        }
        if (left <= 1) return yield* Effect.fail(locked(lockFile, "alive", { holder: lastHolder }))
        return yield* attempt(left - 1)
      })

    const claim = Effect.gen(function* () {
      yield* fs.makeDirectory(stateDir, { recursive: true })
      yield* sweepTemporaries(fs, stateDir, path)
      return yield* attempt(maxAttempts)
    }).pipe(
      Effect.catchIf(
        (e): e is PlatformError => e._tag !== "RunnerLocked",
        (e) => Effect.fail(new RunnerLockFailed({ lockFile, action: "create", problem: e.message }))
      )
    )

    return yield* Effect.acquireRelease(claim, () => releaseIfOurs(fs, lockFile, me))
  })

// ---------------------------------------------------------------------------------------------

type Seen =
  | { readonly _tag: "Absent" }
  | { readonly _tag: "Held"; readonly holder: LockHolder }
  | { readonly _tag: "Unreadable"; readonly problem: string }

const sameRun = (a: LockHolder, b: LockHolder): boolean => a.pid === b.pid && a.host === b.host && a.startedAt === b.startedAt

const readLock = (fs: FileSystem.FileSystem, file: string): Effect.Effect<Seen> =>
  fs.readFileString(file).pipe(
    Effect.map(parseLock),
    Effect.catchAll((e) => Effect.succeed<Seen>(isNotFound(e) ? { _tag: "Absent" } : { _tag: "Unreadable", problem: e.message }))
  )

const decodeJson = Schema.decodeUnknownEither(Schema.parseJson())
const decodeContent = Schema.decodeUnknownEither(LockFileContent)

const parseLock = (text: string): Seen => {
  if (text.trim() === "") return { _tag: "Unreadable", problem: "the file is empty" }
  const json = decodeJson(text)
  if (json._tag === "Left") return { _tag: "Unreadable", problem: "it is not JSON" }
  const content = decodeContent(json.right)
  if (content._tag === "Left") {
    const issue = ParseResult.ArrayFormatter.formatErrorSync(content.left)[0]
    const where = issue === undefined || issue.path.length === 0 ? "" : `${issue.path.join(".")}: `
    return { _tag: "Unreadable", problem: `it is not a version 1 runner lock (${where}${issue?.message ?? "invalid"})` }
  }
  const { version: _version, ...holder } = content.right
  return { _tag: "Held", holder }
}

/**
 * Creates `file` with `text` only if it does not exist; `false` when it does. The content is
 * complete before the name appears (hard link of a private temporary file), so a reader racing
 * the creation sees either nothing or the whole lock.
 */
const publish = (fs: FileSystem.FileSystem, file: string, text: string): Effect.Effect<boolean, PlatformError> => {
  const temp = temporaryName(file)
  const exclusive = fs.writeFileString(file, text, { flag: "wx" })
  return fs.writeFileString(temp, text, { flag: "wx" }).pipe(
    Effect.zipRight(
      fs.link(temp, file).pipe(
        // No hard links on this file system: create the name exclusively instead.
        Effect.catchIf(
          (e) => !isAlreadyExists(e),
          () => exclusive
        )
      )
    ),
    Effect.as(true),
    Effect.catchIf(isAlreadyExists, () => Effect.succeed(false)),
    Effect.ensuring(fs.remove(temp).pipe(Effect.ignore))
  )
}

/** Writes `file` whole, replacing what is there in one step (temporary file, then rename). */
const replace = (fs: FileSystem.FileSystem, file: string, text: string): Effect.Effect<void, PlatformError> => {
  const temp = temporaryName(file)
  return fs
    .writeFileString(temp, text, { flag: "wx" })
    .pipe(Effect.zipRight(fs.rename(temp, file)), Effect.ensuring(fs.remove(temp).pipe(Effect.ignore)))
}

const temporaryName = (file: string) => `${file}.${process.pid}-${randomBytes(6).toString("hex")}.tmp`

/** `runner.lock.<pid>-<hex>.tmp` (and the takeover guard's): the pid of the process that wrote it. */
const temporaryPattern = /^runner\.lock(?:\.[a-z]+)?\.(\d+)-[0-9a-f]+\.tmp$/

const pidAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
    return true
  } catch (e) {
    return isErrno(e) && e.code === "EPERM"
  }
}

/**
 * Temporary lock files of processes that are gone (a SIGKILL between write and rename): removed,
 * so a state folder does not collect them. A live writer's are left alone.
 */
const sweepTemporaries = (fs: FileSystem.FileSystem, stateDir: string, path: Path.Path): Effect.Effect<void> =>
  fs.readDirectory(stateDir).pipe(
    Effect.flatMap((names) =>
      Effect.forEach(
        names.flatMap((name) => {
          const pid = temporaryPattern.exec(name)?.[1]
          return pid !== undefined && Number(pid) !== process.pid && !pidAlive(Number(pid)) ? [path.join(stateDir, name)] : []
        }),
        (file) => fs.remove(file).pipe(Effect.ignore),
        { discard: true }
      )
    ),
    Effect.ignore
  )

const releaseIfOurs = (fs: FileSystem.FileSystem, file: string, me: LockHolder): Effect.Effect<void> =>
  Effect.flatMap(readLock(fs, file), (seen) =>
    seen._tag === "Held" && sameRun(seen.holder, me) ? fs.remove(file).pipe(Effect.ignore) : Effect.void
  )

const isNotFound = (e: PlatformError): boolean => e._tag === "SystemError" && e.reason === "NotFound"
const isAlreadyExists = (e: PlatformError): boolean => e._tag === "SystemError" && e.reason === "AlreadyExists"

// Process identity (Linux) -------------------------------------------------------------------

/** Reads a small file under `/proc`; `undefined` when there is none or it cannot be read. */
const readProc = (file: string): string | undefined => {
  if (process.platform !== "linux") return undefined
  try {
    return readFileSync(file, "utf8")
  } catch {
    return undefined
  }
}

/**
 * Field 22 (`starttime`) of a `/proc/<pid>/stat` line. Field 2 is the command name in
 * parentheses, which may itself hold spaces and `)`: the fields are counted after the last `)`,
 * where field 3 comes first.
 */
const parseStartTime = (stat: string): number | undefined => {
  const close = stat.lastIndexOf(")")
  if (close < 0) return undefined
  const value = stat
    .slice(close + 1)
    .trim()
    .split(/\s+/)[22 - 3]
  if (value === undefined || !/^\d+$/.test(value)) return undefined
  const ticks = Number(value)
  return Number.isSafeInteger(ticks) ? ticks : undefined
}

/** When the process `pid` started, in clock ticks since boot; `undefined` when `/proc` cannot say. */
const processStart = (pid: number | "self"): number | undefined => {
  const stat = readProc(`/proc/${pid}/stat`)
  return stat === undefined ? undefined : parseStartTime(stat)
}

let bootIdRead: { readonly value: string | undefined } | undefined
/** This boot's id (it changes at every boot); `undefined` when it cannot be read. Read once. */
const thisBootId = (): string | undefined => {
  if (bootIdRead === undefined) {
    const value = readProc("/proc/sys/kernel/random/boot_id")?.trim()
    bootIdRead = { value: value === undefined || value === "" ? undefined : value }
  }
  return bootIdRead.value
}

/** `procStart` and `bootId` for this process, each only where it can be read. */
const thisProcessIdentity = (): { procStart?: number; bootId?: string } => {
  const procStart = processStart("self")
  const boot = thisBootId()
  return { ...(procStart === undefined ? {} : { procStart }), ...(boot === undefined ? {} : { bootId: boot }) }
}

const isErrno = (error: unknown): error is NodeJS.ErrnoException => typeof error === "object" && error !== null && "code" in error
