/**
 * What the journal and the lock file say about a pipeline's jobs now, read without taking the
 * runner lock or writing anything: `clapper plan` shows it per job, `clapper status` summarises it.
 */
import type { FileSystem } from "@effect/platform"
import { Effect } from "effect"
import type { LoadedPipeline } from "../pipeline/load.ts"
import type { Plan } from "./plan.ts"
import { resumeState, type JobState, type JobStateName } from "./resume.ts"
import type { StateCorrupt, StateIoError } from "../state/journal.ts"
import type { RunnerLockState } from "../state/runnerLock.ts"
import { currentStateStore } from "../state/StateStore.ts"

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
): Effect.Effect<PipelineState, StateCorrupt | StateIoError, FileSystem.FileSystem> =>
  Effect.gen(function* () {
    const store = yield* currentStateStore
    const ref = { name: pipeline.spec.name, file: pipeline.path }
    const stored = yield* store.read(ref)
    const resumption = yield* resumeState(plan, stored.journal, stored.lock)
    const counts = Object.fromEntries(jobStateNames.map((name) => [name, 0])) as Record<JobStateName, number>
    for (const state of resumption.jobs.values()) counts[state.name]++
    const costByFingerprint = new Map(plan.jobs.map((j) => [j.fingerprint, j.estimatedCostUsd]))
    let spent = 0
    let possibleDuplicates = 0
    for (const [fp, render] of stored.journal.renders) {
      const cost = costByFingerprint.get(fp) ?? 0
      // Every video accepted for the render was paid for (a resubmission after FAILED too).
      spent += cost * (render.renders ?? (render.videoId !== undefined ? 1 : 0))
      spent += cost * render.possibleDuplicates
      possibleDuplicates += render.possibleDuplicates
    }
    return {
      jobs: resumption.jobs,
      counts,
      spentUsd: Math.round(spent * 100) / 100,
      possibleDuplicates,
      runner: yield* store.runner(ref),
      warnings: stored.warnings
    }
  })
