/**
 * What is left to do, from the journal, the lock file and the outputs on disk. Decided per render
 * (fingerprint), because a render's bytes serve every output that shares its fingerprint:
 * a valid file is copied (or moved, when an output was renamed), a finished remote video is
 * downloaded, one still rendering is polled, an unknown submit is reconciled, and only what has
 * no render anywhere is submitted.
 */
import type { FileSystem } from "@effect/platform"
import { Effect } from "effect"
import { stat } from "node:fs/promises"
import { statFiles } from "../media/statFiles.ts"
import { join } from "node:path"
import type { Plan, PlannedJob } from "./plan.ts"
import { digestFile } from "../media/digest.ts"
import type { JournalState } from "../state/journalEntry.ts"
import type { LockFile } from "../state/lockFile.ts"
import { recordedStart } from "../state/renderStart.ts"

/** A job's state as `clapper plan` and `clapper status` show it. */
export type JobStateName = "new" | "changed" | "in-flight" | "up-to-date" | "failed"

export interface JobState {
  readonly name: JobStateName
  /** A few words on why, e.g. "rendered as video_x, to download" or the last error. */
  readonly detail?: string
  readonly videoId?: string
}

/** Where a render's bytes will come from. */
export type RenderStart =
  | { readonly _tag: "UpToDate" }
  /** A valid file with this fingerprint is on disk: copy it (move it, when its output left the pipeline). */
  | { readonly _tag: "FromFile"; readonly source: string; readonly move: boolean; readonly videoId: string }
  | { readonly _tag: "Download"; readonly videoId: string }
  | { readonly _tag: "Poll"; readonly videoId: string; readonly submittedAt: number }
  /** A submit was announced but its answer never recorded: find the video before submitting again. */
  | { readonly _tag: "Reconcile"; readonly intentAt: number }
  | { readonly _tag: "Submit" }

export interface RenderPlan {
  readonly fingerprint: string
  /** The group's jobs that need their file (up-to-date ones left out). */
  readonly needing: ReadonlyArray<PlannedJob>
  readonly start: RenderStart
}

export interface Resumption {
  readonly jobs: ReadonlyMap<string, JobState>
  readonly renders: ReadonlyArray<RenderPlan>
  /** Up to date by the journal, missing from the lock (a crash before the lock was rewritten). */
  readonly missingFromLock: ReadonlyArray<{
    readonly job: PlannedJob
    readonly videoId: string
    readonly sha256: string
    readonly size: number
  }>
}

interface FileFacts {
  readonly size: number
  readonly mtimeMs: number
}

const fileFacts = (path: string): Effect.Effect<FileFacts | undefined> =>
  Effect.promise(() =>
    stat(path).then(
      (s) => (s.isFile() ? { size: s.size, mtimeMs: s.mtimeMs } : undefined),
      () => undefined
    )
  )

/**
 * Whether `facts` (a file's size and mtime) show it holds the bytes the lock recorded without
 * reading it: `true` when size and mtime are as the journal last saw them, `false` when the size
 * differs or there is no file, `undefined` when only its digest can tell.
 */
const matchesByFacts = (
  facts: FileFacts | undefined,
  expected: { size: number },
  seen: { size: number; mtimeMs: number } | undefined
): boolean | undefined => {
  if (!facts || facts.size !== expected.size) return false
  // The journal keeps whole milliseconds (a Date's precision); the file system has fractions.
  // Compared exactly, they never match and every check would fall back to hashing the file.
  if (seen && seen.size === facts.size && Math.abs(seen.mtimeMs - facts.mtimeMs) < 1) return true
  return undefined
}

/**
 * True when `path` holds the bytes the lock recorded: size and mtime as the journal last saw them
 * stand in for the digest; when they differ, the digest decides. Decided without an Effect when
 * the facts are at hand (100,000 up-to-date outputs are checked in a loop).
 */
const matches = (
  path: string,
  expected: { sha256: string; size: number },
  seen: { size: number; mtimeMs: number } | undefined,
  known?: ReadonlyMap<string, FileFacts | undefined>
): boolean | Effect.Effect<boolean, never, FileSystem.FileSystem> => {
  const byFacts = known?.has(path) ? matchesByFacts(known.get(path), expected, seen) : undefined
  if (byFacts !== undefined) return byFacts
  return Effect.gen(function* () {
    const facts = known?.has(path) ? known.get(path) : yield* fileFacts(path)
    const quick = matchesByFacts(facts, expected, seen)
    if (quick !== undefined) return quick
    const digest = yield* digestFile(path).pipe(Effect.orElseSucceed(() => ""))
    return digest === expected.sha256
  })
}

const decidedTrue = Effect.succeed(true)
const decidedFalse = Effect.succeed(false)
/** `matches`'s answer as an Effect (a shared one when it was known at once). */
const decided = (answer: boolean | Effect.Effect<boolean, never, FileSystem.FileSystem>) =>
  answer === true ? decidedTrue : answer === false ? decidedFalse : answer

/** Jobs grouped by fingerprint, in plan order: the first of each group renders, the rest copy. */
export const groupByFingerprint = (jobs: ReadonlyArray<PlannedJob>): ReadonlyArray<ReadonlyArray<PlannedJob>> => {
  const groups = new Map<string, Array<PlannedJob>>()
  for (const job of jobs) {
    const group = groups.get(job.fingerprint)
    if (group) group.push(job)
    else groups.set(job.fingerprint, [job])
  }
  return [...groups.values()]
}

export const resumeState = (plan: Plan, journal: JournalState, lock: LockFile): Effect.Effect<Resumption, never, FileSystem.FileSystem> =>
  Effect.gen(function* () {
    const root = plan.pipeline.projectRoot
    const jobs = new Map<string, JobState>()
    const groups = new Map(groupByFingerprint(plan.jobs).map((group) => [group[0]!.fingerprint, group] as const))
    // The lock's outputs by fingerprint: where else a render's bytes, or its video id, may be found.
    const lockByFingerprint = new Map<string, Array<[string, LockFile["outputs"][string]]>>()
    for (const [id, entry] of Object.entries(lock.outputs)) {
      const list = lockByFingerprint.get(entry.fingerprint)
      if (list) list.push([id, entry])
      else lockByFingerprint.set(entry.fingerprint, [[id, entry]])
    }
    const inPlan = new Set(plan.jobs.map((j) => j.id))
    // Every output the lock or the journal knows is looked up up front, in batches (statFiles).
    const recorded = plan.jobs.filter((job) => lock.outputs[job.id] !== undefined || journal.outputs.has(job.id)).map((job) => job.output)
    const found = yield* statFiles(recorded)
    const known = new Map<string, FileFacts | undefined>()
    recorded.forEach((output, i) => {
      const info = found[i]
      known.set(output, info?.type === "File" ? { size: info.size, mtimeMs: info.mtimeMs } : undefined)
    })
    const renders: Array<RenderPlan> = []
    const missingFromLock: Array<Resumption["missingFromLock"][number]> = []

    for (const [fp, group] of groups) {
      const needing: Array<PlannedJob> = []
      let validFile: { path: string; move: boolean; videoId: string } | undefined
      for (const job of group) {
        const entry = lock.outputs[job.id]
        const seen = journal.outputs.get(job.id)
        const byLock = entry !== undefined && entry.fingerprint === fp && (yield* decided(matches(job.output, entry.output, seen, known)))
        const byJournal = !byLock && seen !== undefined && seen.fp === fp && (yield* decided(matches(job.output, seen, seen, known)))
        if (byLock || byJournal) {
          const videoId = byLock ? (entry as { videoId: string }).videoId : (seen as { videoId: string }).videoId
          jobs.set(job.id, { name: "up-to-date", videoId })
          if (byJournal && seen) missingFromLock.push({ job, videoId, sha256: seen.sha256, size: seen.size })
          validFile ??= { path: job.output, move: false, videoId }
        } else {
          needing.push(job)
        }
      }
      if (needing.length === 0) {
        renders.push({ fingerprint: fp, needing, start: { _tag: "UpToDate" } })
        continue
      }
      // A renamed output: the old path still holds this render's bytes.
      if (!validFile) {
        for (const [id, entry] of lockByFingerprint.get(fp) ?? []) {
          if (group.some((j) => j.id === id)) continue
          const path = join(root, id)
          if (yield* decided(matches(path, entry.output, journal.outputs.get(id)))) {
            validFile = { path, move: !inPlan.has(id), videoId: entry.videoId }
            break
          }
        }
      }
      const render = journal.renders.get(fp)
      const recorded = recordedStart(render)
      const lockVideo = lockByFingerprint.get(fp)?.[0]?.[1].videoId
      const failure = render?.status === "failed" && render.error ? `${render.error.step} failed: ${render.error.reason}` : undefined
      let start: RenderStart
      let state: JobState
      if (validFile) {
        start = { _tag: "FromFile", source: validFile.path, move: validFile.move, videoId: validFile.videoId }
        state = { name: "in-flight", detail: `rendered; to ${validFile.move ? "move" : "copy"} from ${validFile.path}` }
      } else if (recorded._tag === "Done") {
        start = { _tag: "Download", videoId: recorded.videoId }
        state = { name: "in-flight", detail: `rendered as ${recorded.videoId}; to download`, videoId: recorded.videoId }
      } else if (recorded._tag === "Poll") {
        start = recorded
        state = failure
          ? {
              name: "failed",
              detail: `rendered as ${recorded.videoId}; ${failure}; the next run polls and downloads it (no new render)`,
              videoId: recorded.videoId
            }
          : { name: "in-flight", detail: `rendering as ${recorded.videoId}`, videoId: recorded.videoId }
      } else if (recorded._tag === "Reconcile") {
        start = recorded
        state = failure
          ? {
              name: "failed",
              detail: `${failure}; its last submit's outcome is unknown: the next run looks for its video before submitting`
            }
          : { name: "in-flight", detail: "a submit was sent but its answer never recorded; to reconcile with the provider" }
      } else if (lockVideo !== undefined && render?.status !== "failed") {
        start = { _tag: "Download", videoId: lockVideo }
        state = { name: "in-flight", detail: `rendered as ${lockVideo} (lock file); to download`, videoId: lockVideo }
      } else if (render?.status === "failed") {
        start = { _tag: "Submit" }
        state = { name: "failed", detail: failure ?? "failed", ...(render.videoId ? { videoId: render.videoId } : {}) }
      } else {
        start = { _tag: "Submit" }
        state = { name: "new" }
      }
      for (const job of needing) {
        const previous = lock.outputs[job.id]
        const changed = previous !== undefined && previous.fingerprint !== fp
        jobs.set(
          job.id,
          state.name === "new" && changed
            ? { name: "changed", detail: "its inputs or parameters changed since the lock was written" }
            : state
        )
      }
      renders.push({ fingerprint: fp, needing, start })
    }
    return { jobs, renders, missingFromLock }
  })
