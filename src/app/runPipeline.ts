/**
 * A pipeline file, run: load → (key or simulator) → plan → state → run → record. The CLI's `run`
 * and the library's `runPipeline` are this, with different ways of showing the events.
 */
import type { FileSystem, Path } from "@effect/platform"
import { Clock, Effect } from "effect"
import type { MissingApiKey } from "../mirage/MirageError.ts"
import type { PipelineInvalid } from "../pipeline/diagnostic.ts"
import { loadPipeline } from "../pipeline/load.ts"
import { planPipeline } from "../plan/plan.ts"
import type { SimulatorStartError } from "../sim/Simulator.ts"
import { lockEntryFor } from "../plan/lockEntry.ts"
import { resumeState } from "../plan/resume.ts"
import { claimedVideoIds } from "../state/journalEntry.ts"
import type { StateCorrupt, StateIoError } from "../state/journal.ts"
import { describeHolder, type RunnerLocked, type RunnerLockFailed } from "../state/runnerLock.ts"
import { currentStateStore } from "../state/StateStore.ts"
import { connectBackend, type Backend } from "./backend.ts"
import { checkTemplatesBeforePaying } from "./preflight.ts"
import { BudgetExceeded, remainingEstimateUsd } from "../runtime/budget.ts"
import type { RunEvent, RunSummary } from "../runtime/events.ts"
import { runPlan } from "../runtime/runPlan.ts"
import { resolveRunSettings, type RunOverrides, type RunSettings } from "../runtime/runSettings.ts"

export interface RunPipelineOptions extends RunOverrides {
  readonly backend: Backend
  readonly emit?: (event: RunEvent) => Effect.Effect<void>
  /** Replaces defaults the pipeline does not set (tests use short polls). */
  readonly baseSettings?: RunSettings
  /** Set a corrupt journal or lock file aside and start again from the lock and the outputs on disk. */
  readonly rebuildState?: boolean
}

export type RunPipelineError =
  | PipelineInvalid
  | MissingApiKey
  | SimulatorStartError
  | StateCorrupt
  | StateIoError
  | RunnerLocked
  | RunnerLockFailed
  | BudgetExceeded

export const runPipeline = (
  file: string,
  options: RunPipelineOptions
): Effect.Effect<RunSummary, RunPipelineError, FileSystem.FileSystem | Path.Path> =>
  Effect.scoped(
    Effect.gen(function* () {
      const emit = options.emit ?? (() => Effect.void)
      const warn = (message: string) =>
        Effect.flatMap(Clock.currentTimeMillis, (ms) => emit({ type: "run.warning", at: new Date(ms).toISOString(), message }))
      const pipeline = yield* loadPipeline(file)
      // The key is checked before any input is read or anything sent.
      const backend = yield* connectBackend(options.backend, pipeline.spec)
      const plan = yield* planPipeline(pipeline)
      const resolved = resolveRunSettings(pipeline.spec, options, options.baseSettings)
      // The built-in simulator's quotas are what its server enforces: the run is told them.
      const settings = backend.quotas ? { ...resolved, quotas: backend.quotas } : resolved

      // One runner per pipeline, then its state: the journal and the lock file.
      const store = yield* currentStateStore
      const state = yield* store.openForRun(
        { name: pipeline.spec.name, file: pipeline.path },
        {
          command: `clapper run ${file}`,
          pipeline: file,
          rebuild: options.rebuildState === true,
          jobIds: new Set(plan.jobs.map((j) => j.id))
        }
      )
      if (state.tookOverFrom) yield* warn(`took over the runner lock of ${describeHolder(state.tookOverFrom)}, which is gone`)
      for (const moved of state.setAside)
        yield* warn(`set ${moved.from} aside as ${moved.to}; the state is rebuilt from the lock file and the outputs on disk`)
      for (const warning of state.warnings) yield* warn(warning)
      const { journal, lock, recorder } = state
      const resumption = yield* resumeState(plan, journal, lock)
      for (const found of resumption.missingFromLock) yield* recorder.upToDate(found.job.id, lockEntryFor(found.job, found.videoId, found))
      const stageRecord = (fp: string) => journal.renders.get(fp)
      if (settings.budgetUsd !== undefined) {
        const estimateUsd = remainingEstimateUsd(resumption.renders, stageRecord)
        if (estimateUsd > settings.budgetUsd + 1e-9)
          return yield* Effect.fail(new BudgetExceeded({ estimateUsd, limitUsd: settings.budgetUsd }))
      }
      // What plan checks at the provider is checked before the first paid request too.
      yield* checkTemplatesBeforePaying(pipeline, plan).pipe(Effect.provide(backend.layer))

      const summary = yield* runPlan(plan, {
        settings,
        emit,
        recorder,
        renders: resumption.renders,
        claimed: claimedVideoIds(journal),
        orphanWindows: journal.orphanWindows,
        stageRecord,
        cacheDir: state.cacheDir,
        keyName: backend.keyName,
        ...(backend.quotaLedger ? { quotaLedger: backend.quotaLedger } : {})
      }).pipe(Effect.provide(backend.layer))
      yield* recorder.flush
      return summary
    })
  )
