/**
 * What the journal and the lock file say about a pipeline's jobs now, read without taking the
 * runner lock or writing anything: `clapper plan` shows it per job, `clapper status` summarises it.
 * Either for every job (`readPipelineState`) or for the jobs a selection chooses
 * (`readSelectedState`: `--only`, `--set`, `--limit`, `--retry-failed`).
 */
import type { FileSystem } from "@effect/platform"
import { Effect, Either } from "effect"
import type { LoadedPipeline } from "../pipeline/load.ts"
import type { Plan, PlannedJob } from "./plan.ts"
import { resumeState, type JobState, type JobStateName } from "./resume.ts"
import { selectPlan, type JobSelection, type Selected, type SelectionInvalid } from "./selection.ts"
import type { StateCorrupt, StateIoError } from "../state/journal.ts"
import type { JournalState } from "../state/journalEntry.ts"
import type { RunnerLockState } from "../state/runnerLock.ts"
import { currentStateStore, type StoredState } from "../state/StateStore.ts"
import { stateRefOf } from "../pipeline/stateRef.ts"

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

/** The state of a selection: the plan and the state of the selected jobs only. */
export interface SelectedState {
  /** The plan restricted to the selected jobs (totals counted again). */
  readonly plan: Plan
  /** Counts, spend and duplicates of the selected jobs' renders only. */
  readonly state: PipelineState
  readonly selected: Selected<PlannedJob>
  /** The journal and lock file as they were read for it (the whole pipeline's). */
  readonly stored: StoredState
}

/** The state of `plan`'s jobs, from what the store read and what resuming made of it. */
const stateOf = (
  plan: Plan,
  resumed: ReadonlyMap<string, JobState>,
  journal: JournalState,
  runner: RunnerLockState,
  warnings: ReadonlyArray<string>
): PipelineState => {
  const jobs = new Map<string, JobState>()
  const counts = Object.fromEntries(jobStateNames.map((name) => [name, 0])) as Record<JobStateName, number>
  for (const job of plan.jobs) {
    const state = resumed.get(job.id)
    if (state === undefined) continue
    jobs.set(job.id, state)
    counts[state.name]++
  }
  // Each stage's record is priced as that stage: a job's own fingerprint (an overlay variant's)
  // is no new render, and a video shared by several variants was paid once.
  const costByFingerprint = new Map<string, number>()
  for (const j of plan.jobs) {
    costByFingerprint.set(j.stages.video, j.costUsd.video)
    if (j.stages.captions) costByFingerprint.set(j.stages.captions.fingerprint, j.costUsd.captions ?? 0)
  }
  let spent = 0
  let possibleDuplicates = 0
  for (const [fp, render] of journal.renders) {
    const cost = costByFingerprint.get(fp)
    if (cost === undefined) continue
    // Every video accepted for the render was paid for (a resubmission after FAILED too).
    spent += cost * (render.renders ?? (render.videoId !== undefined ? 1 : 0))
    spent += cost * render.possibleDuplicates
    possibleDuplicates += render.possibleDuplicates
  }
  return { jobs, counts, spentUsd: Math.round(spent * 100) / 100, possibleDuplicates, runner, warnings }
}

const readResumed = (pipeline: LoadedPipeline, plan: Plan) =>
  Effect.gen(function* () {
    const store = yield* currentStateStore
    const ref = stateRefOf(pipeline)
    const stored = yield* store.read(ref)
    const resumption = yield* resumeState(plan, stored.journal, stored.lock)
    return { stored, resumed: resumption.jobs, runner: yield* store.runner(ref) }
  })

const readPipelineStateAndResumed = (pipeline: LoadedPipeline, plan: Plan) =>
  Effect.map(readResumed(pipeline, plan), ({ stored, resumed, runner }) => ({
    state: stateOf(plan, resumed, stored.journal, runner, stored.warnings),
    resumed,
    stored,
    runner
  }))

export const readPipelineState = (
  pipeline: LoadedPipeline,
  plan: Plan
): Effect.Effect<PipelineState, StateCorrupt | StateIoError, FileSystem.FileSystem> =>
  Effect.map(readPipelineStateAndResumed(pipeline, plan), ({ state }) => state)

/** The ids of the jobs whose last attempt failed (what `--retry-failed` keeps). */
export const failedJobIds = (state: PipelineState): ReadonlySet<string> =>
  new Set([...state.jobs].flatMap(([id, s]) => (s.name === "failed" ? [id] : [])))

/**
 * The state of the jobs `selection` chooses: the whole plan is resumed (which jobs failed is
 * known only then), then restricted. Fails with every selector that cannot be used.
 */
export const readSelectedState = (
  pipeline: LoadedPipeline,
  plan: Plan,
  selection: JobSelection | undefined
): Effect.Effect<SelectedState, SelectionInvalid | StateCorrupt | StateIoError, FileSystem.FileSystem> =>
  Effect.gen(function* () {
    // Selectors that match nothing are refused before the state is read.
    yield* selectPlan(plan, selection, new Set())
    const all = yield* readPipelineStateAndResumed(pipeline, plan)
    const chosen = selectPlan(plan, selection, failedJobIds(all.state))
    if (Either.isLeft(chosen)) return yield* Effect.fail(chosen.left)
    const { plan: selectedPlan, selected } = chosen.right
    const state = selected.everything ? all.state : stateOf(selectedPlan, all.resumed, all.stored.journal, all.runner, all.stored.warnings)
    return { plan: selectedPlan, state, selected, stored: all.stored }
  })
