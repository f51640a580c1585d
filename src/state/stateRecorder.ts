/**
 * The file-backed `Recorder`: transitions go to the journal (synced before and after every remote
 * call), completed outputs to the lock file. The lock is rewritten after completed jobs; when jobs
 * complete faster than it can be rewritten, the writes coalesce (the journal already holds every
 * completion, so nothing is lost in between, and the next run restores a missing entry from it).
 */
import { Clock, Effect, Queue, type Scope } from "effect"
import type { Recorder } from "./recorder.ts"
import type { Journal, StateIoError } from "./journal.ts"
import { lockVersion, replaceLockFile, writeLockFile, type LockEntry, type LockFile } from "./lockFile.ts"
import { type LockLines, makeLockLines } from "./lockLines.ts"

export interface StateRecorder extends Recorder {
  /** Writes the lock file now. */
  readonly flush: Effect.Effect<void, StateIoError>
  /** An output found up to date through the journal (not yet in the lock): its entry is restored. */
  readonly upToDate: (job: string, entry: LockEntry) => Effect.Effect<void>
  /** The lock file as the run has it now (what `flush` writes), for what is drawn from it after a run (the results table). */
  readonly lock: Effect.Effect<LockFile>
}

export const makeStateRecorder = (options: {
  readonly journal: Journal
  readonly lockPath: string
  readonly lock: LockFile
  /** Ids of the jobs in the pipeline now: entries for outputs no longer in it are dropped. */
  readonly jobIds: ReadonlySet<string>
  /** The lock file holds exactly what writing `lock` gives (`readLockFileAsWritten`): until something changes, no write. */
  readonly lockAsWritten?: boolean
}): Effect.Effect<StateRecorder, never, Scope.Scope> =>
  Effect.gen(function* () {
    const { journal } = options
    // The entries as values, for `lock` and for the lines.
    const outputs = new Map(Object.entries(options.lock.outputs).filter(([id]) => options.jobIds.has(id)))
    // Whether the file may differ from the lines. Not while it already says it all (a resume of
    // 100,000 up-to-date jobs neither builds the lines nor reads the file back to compare); after
    // a write, only a change makes it so. The first write compares with the file (a lock read in
    // another layout may hold the same); later ones need not, and keep no 60 MB copy to compare with.
    let changedSinceWrite = !(options.lockAsWritten === true && outputs.size === Object.keys(options.lock.outputs).length)
    let firstWrite = true
    // Each entry's line, made at the first change and kept: a write joins them instead of
    // re-serialising 100,000 entries per completed job. One line replaced per completion.
    let lines: LockLines | undefined
    const linesNow = (): LockLines => {
      if (lines === undefined) {
        lines = makeLockLines()
        for (const [id, entry] of outputs) lines.set(id, entry)
      }
      return lines
    }
    const change = (job: string, entry: LockEntry) => {
      changedSinceWrite = true
      outputs.set(job, entry)
      if (lines !== undefined) lines.set(job, entry)
    }
    const { pipeline } = options.lock
    const writing = yield* Effect.makeSemaphore(1)
    // Always in the current version, whatever was read: a run's first write migrates a version 1 lock.
    const flush = writing.withPermits(1)(
      Effect.suspend(() => {
        if (!changedSinceWrite) return Effect.void
        changedSinceWrite = false
        const bytes = linesNow().bytes(pipeline)
        const write = firstWrite ? writeLockFile(options.lockPath, bytes) : replaceLockFile(options.lockPath, bytes)
        return write.pipe(
          Effect.tap(() => Effect.sync(() => void (firstWrite = false))),
          // Not written: the next flush tries again.
          Effect.tapError(() => Effect.sync(() => void (changedSinceWrite = true)))
        )
      })
    )
    // One writer: each signal is followed by a write that includes everything completed before it;
    // signals during a write collapse into one more. Between writes it rests at least a second,
    // and twenty times as long as the last write took: a 100,000-entry lock is about 60 MB, and
    // rewriting it several times a second was a large share of a big run's CPU and garbage. The
    // journal holds every completion meanwhile, so a crash loses nothing.
    const dirty = yield* Queue.sliding<void>(1)
    const writeThenRest = Effect.gen(function* () {
      yield* Queue.take(dirty)
      const started = yield* Clock.currentTimeMillis
      // A lock file that cannot be written now is written at the next completion or at the end;
      // the journal holds every completion meanwhile.
      yield* Effect.ignore(flush)
      yield* Effect.sleep(Math.max(1000, 20 * ((yield* Clock.currentTimeMillis) - started)))
    })
    yield* Effect.forkScoped(Effect.forever(writeThenRest))
    // Whatever happens to the run, the lock ends in step with what completed.
    yield* Effect.addFinalizer(() => Effect.ignore(flush))
    const durable = { durable: true } as const
    const recorder: StateRecorder = {
      intent: (target, at) => journal.append({ t: "intent", fp: target.fp, job: target.job, at }, durable),
      submitted: (target, videoId, at) => journal.append({ t: "submitted", fp: target.fp, job: target.job, videoId, at }, durable),
      notSubmitted: (target, at) => journal.append({ t: "notSubmitted", fp: target.fp, at }, durable),
      adopted: (target, videoId, at) => journal.append({ t: "adopted", fp: target.fp, job: target.job, videoId, at }, durable),
      possibleDuplicate: (target, reason, window, at) =>
        journal.append({ t: "possibleDuplicate", fp: target.fp, job: target.job, reason, ...(window ?? {}), at }, durable),
      rendered: (target, video, at) =>
        journal.append(
          {
            t: "complete",
            fp: target.fp,
            videoId: video.videoId,
            ...(video.shareLinkUrl !== undefined ? { shareLinkUrl: video.shareLinkUrl } : {}),
            at
          },
          { durable: false }
        ),
      failed: (target, failure, at) =>
        journal.append(
          {
            t: "failed",
            fp: target.fp,
            step: failure.step,
            reason: failure.reason,
            ...(failure.code !== undefined ? { code: failure.code } : {}),
            ...(failure.videoId !== undefined ? { videoId: failure.videoId } : {}),
            ...(failure.videoGone ? { videoGone: true } : {}),
            at
          },
          durable
        ),
      detached: (target, videoId, at) => journal.append({ t: "detached", fp: target.fp, videoId, at }, durable),
      completed: (output, facts, at) =>
        Effect.gen(function* () {
          const { job, fp, videoId } = output
          yield* journal.append(
            { t: "downloaded", job, fp, videoId, sha256: facts.sha256, size: facts.size, mtimeMs: facts.mtimeMs, at },
            durable
          )
          change(job, output.entry)
          yield* Queue.offer(dirty, undefined)
        }),
      upToDate: (job, entry) =>
        Effect.sync(() => {
          if (!outputs.has(job)) change(job, entry)
        }),
      flush,
      lock: Effect.sync(() => ({ version: lockVersion, pipeline, outputs: Object.fromEntries(outputs) }))
    }
    return recorder
  })
