/**
 * What the journal and the lock file say about a pipeline's jobs now, read without taking the
 * runner lock or writing anything: `clapper plan` shows it per job, `clapper status` summarises it.
 */
import { FileSystem, Path } from "@effect/platform"
import { Effect } from "effect"
import type { LoadedPipeline } from "../pipeline/load.ts"
import type { Plan } from "./plan.ts"
import { resumeState, type JobState, type JobStateName } from "./resume.ts"
import { readJournal, type StateCorrupt, type StateIoError } from "../state/journal.ts"
import { lockFilePath, readLockFile } from "../state/lockFile.ts"
import { inspectRunnerLock, type RunnerLockState } from "../state/runnerLock.ts"
import { stateDir } from "../state/stateDir.ts"

export const jobStateNames: ReadonlyArray<JobStateName> = ["new", "changed", "in-flight", "up-to-date", "failed"]

export interface PipelineState {
  readonly jobs: ReadonlyMap<string, JobState>
  readonly counts: Readonly<Record<JobStateName, number>>
  /** Estimated spend of every render the journal saw submitted, duplicates included. */
  readonly spentUsd: number
  readonly possibleDuplicates: number
  readonly runner: RunnerLockState
  readonly warnings: ReadonlyArray<string>
}

export const readPipelineState = (
  pipeline: LoadedPipeline,
  plan: Plan
): Effect.Effect<PipelineState, StateCorrupt | StateIoError, FileSystem.FileSystem | Path.Path> =>
  Effect.gen(function* () {
    const path = yield* Path.Path
    const dir = stateDir(pipeline.dir, pipeline.spec.name, path)
    const journal = yield* readJournal(dir)
    const lock = yield* readLockFile(lockFilePath(pipeline.path), pipeline.spec.name)
    const resumption = yield* resumeState(plan, journal.state, lock)
    const counts = Object.fromEntries(jobStateNames.map((name) => [name, 0])) as Record<JobStateName, number>
    for (const state of resumption.jobs.values()) counts[state.name]++
    const costByFingerprint = new Map(plan.jobs.map((j) => [j.fingerprint, j.estimatedCostUsd]))
    let spent = 0
    let possibleDuplicates = 0
    for (const [fp, render] of journal.state.renders) {
      const cost = costByFingerprint.get(fp) ?? 0
      if (render.videoId !== undefined) spent += cost
      spent += cost * render.possibleDuplicates
      possibleDuplicates += render.possibleDuplicates
    }
    return {
      jobs: resumption.jobs,
      counts,
      spentUsd: Math.round(spent * 100) / 100,
      possibleDuplicates,
      runner: yield* inspectRunnerLock(dir),
      warnings: journal.warnings
    }
  })
