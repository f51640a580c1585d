/**
 * A pipeline file, run: load → (key or simulator) → plan → state → select → run → record. The
 * CLI's `run` and the library's `runPipeline` are this, with different ways of showing the events.
 * Every run that gets the runner lock leaves its entry in the run history (`clapper log`): each
 * event as it is emitted, then how the run ended.
 */
import type { FileSystem, Path } from "@effect/platform"
import { Cause, Clock, Effect, Either, Exit, Layer } from "effect"
import type { MissingApiKey } from "../mirage/MirageError.ts"
import type { PipelineInvalid } from "../pipeline/diagnostic.ts"
import { loadPipeline } from "../pipeline/load.ts"
import { planPipeline } from "../plan/plan.ts"
import type { SimulatorStartError } from "../sim/Simulator.ts"
import { lockEntryFor } from "../plan/lockEntry.ts"
import { resumeState, type RenderPlan } from "../plan/resume.ts"
import { selectPlan, type JobSelection, type SelectionInvalid } from "../plan/selection.ts"
import { claimedVideoIds } from "../state/journalEntry.ts"
import type { StateCorrupt, StateIoError } from "../state/journal.ts"
import { describeHolder, type LockHolder, type RunnerLocked, type RunnerLockFailed } from "../state/runnerLock.ts"
import type { RunHistoryWriter } from "../state/runHistory.ts"
import { currentStateStore, type StoredState } from "../state/StateStore.ts"
import { connectBackend, type Backend } from "./backend.ts"
import { ExitCodes, runExitCode } from "./exitCodes.ts"
import { checkTemplatesBeforePaying } from "./preflight.ts"
import { refuseBadResultsOption, writeResultsAfterRun } from "./results.ts"
import { BudgetExceeded, remainingEstimateUsd } from "../runtime/budget.ts"
import type { RunEvent, RunSummary } from "../runtime/events.ts"
import { runPlan } from "../runtime/runPlan.ts"
import { resolveRunSettings, type RunOverrides, type RunSettings } from "../runtime/runSettings.ts"
import { stateRefOf } from "../pipeline/stateRef.ts"
import type { JournalState } from "../state/journalEntry.ts"
import type { SharedCampaign } from "../state/sharedCampaign.ts"
import { writeLockOf } from "./exportLock.ts"
import { makeWorkerDistribution } from "./workers/distributeToWorkers.ts"
import { WorkerCannotStart } from "./workers/workerCannotStart.ts"
import { startWorkerEngine, workerEngine, type WorkerAddress } from "./workers/workerEngine.ts"

export interface RunPipelineOptions extends RunOverrides {
  readonly backend: Backend
  readonly emit?: (event: RunEvent) => Effect.Effect<void>
  /** Replaces defaults the pipeline does not set (tests use short polls). */
  readonly baseSettings?: RunSettings
  /** Set a corrupt journal or lock file aside and start again from the lock and the outputs on disk. */
  readonly rebuildState?: boolean
  /**
   * When another run holds the pipeline, wait for it to end and take over (a standby runner: with
   * a shared state store, on another machine) instead of refusing.
   */
  readonly waitForRunner?: boolean
  /**
   * Run only these jobs (`--only`, `--set`, `--limit`, `--retry-failed`); default all. The budget
   * and the estimate count only them; the lock file keeps the entries of the others.
   */
  readonly select?: JobSelection
  /** The command line as typed, for the run history (secrets are blanked); default `runPipeline FILE`. */
  readonly commandLine?: ReadonlyArray<string>
  /**
   * Run as one of several workers on the campaign (`clapper worker`): a shared state store, each
   * render done by the worker the durable engine hands it to; other runners reach this one at `address`.
   */
  readonly worker?: { readonly address: WorkerAddress }
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
  | SelectionInvalid
  | WorkerCannotStart

/** A standby run says once whom it waits for (before its history opens: to the caller's events only). */
const announceWait = (file: string, emit: RunPipelineOptions["emit"]) => (holder: LockHolder | undefined) =>
  Effect.flatMap(Clock.currentTimeMillis, (ms) =>
    emit === undefined
      ? Effect.void
      : emit({
          type: "run.warning",
          at: new Date(ms).toISOString(),
          message: `${file} is being run by ${holder ? describeHolder(holder) : "another run"}: waiting to take over when it ends`
        })
  )

/** Only the renders of selected jobs, each needing only its selected jobs. */
const selectedRenders = (renders: ReadonlyArray<RenderPlan>, selected: ReadonlySet<string>): ReadonlyArray<RenderPlan> =>
  renders.flatMap((r) => {
    const needing = r.needing.filter((job) => selected.has(job.id))
    return needing.length > 0 ? [{ ...r, needing }] : []
  })

/** The history's last line: how the run ended, with the exit code the CLI gives for it. */
const recordEnd = (history: RunHistoryWriter, exit: Exit.Exit<RunSummary, RunPipelineError>, lastSummary: RunSummary | undefined) => {
  const counts = (s: RunSummary | undefined) => ({
    completed: s?.completed.length ?? 0,
    failed: s?.failed.length ?? 0,
    spentUsd: s?.spentUsd ?? 0
  })
  if (Exit.isSuccess(exit)) {
    const summary = exit.value
    const message = summary.stopped?.message
    return history.end({
      outcome: summary.interrupted ? "interrupted" : "finished",
      exitCode: runExitCode(summary),
      ...counts(summary),
      ...(message !== undefined ? { message } : {})
    })
  }
  if (Cause.isInterruptedOnly(exit.cause))
    return history.end({ outcome: "interrupted", exitCode: ExitCodes.interrupted, ...counts(lastSummary) })
  const failure = Cause.failureOption(exit.cause)
  // A defect is a crash: no end, as for a killed run.
  if (failure._tag === "None") return Effect.void
  return history.end({ outcome: "refused", exitCode: ExitCodes.invalidInput, ...counts(undefined), message: failure.value.message })
}

/** A worker's place in its campaign's engine: where its units run, and what the others recorded of submits. */
const joinEngine = (shared: SharedCampaign | undefined, journal: JournalState, address: WorkerAddress, settings: RunSettings) =>
  Effect.gen(function* () {
    if (shared === undefined)
      return yield* Effect.fail(
        new WorkerCannotStart({
          reason: "the campaign's state is in this machine's files, which other machines cannot share",
          fix: "Give the campaign's database: --state postgres://user@host/db (or `state:` in the pipeline, or CLAPPER_STATE)"
        })
      )
    const distribution = yield* makeWorkerDistribution(shared, journal)
    const engine = yield* startWorkerEngine(
      shared.sql,
      Layer.provideMerge(distribution.handler, workerEngine(shared.sql, shared.campaign, address)),
      settings.settleTime
    ).pipe(
      Effect.mapError(
        (e) =>
          new WorkerCannotStart({
            reason: `its engine did not start at ${address.host}:${address.port} (${e.message})`,
            fix: "Give an address of this machine that the other workers reach and whose port is free: --address HOST:PORT"
          })
      )
    )
    return { distribute: distribution.distribute(Layer.succeedContext(engine)), campaignSubmits: shared.submits }
  })

export const runPipeline = (
  file: string,
  options: RunPipelineOptions
): Effect.Effect<RunSummary, RunPipelineError, FileSystem.FileSystem | Path.Path> =>
  Effect.scoped(
    Effect.gen(function* () {
      const pipeline = yield* loadPipeline(file)
      // The key is checked before any input is read or anything sent.
      const backend = yield* connectBackend(options.backend, pipeline.spec)
      const plan = yield* planPipeline(pipeline)
      // Selectors that match nothing are refused before the state is touched (which jobs failed
      // last time only narrows the selection further: it is read below).
      yield* selectPlan(plan, options.select, new Set())
      // A `results:` path that could never be written is refused before anything is sent.
      yield* refuseBadResultsOption(pipeline, plan)
      const resolved = resolveRunSettings(pipeline.spec, options, options.baseSettings)
      // The built-in simulator's quotas are what its server enforces: the run is told them.
      const settings = backend.quotas ? { ...resolved, quotas: backend.quotas } : resolved

      // What the store tells during the run (a shared database lost, and back) becomes a warning;
      // before the run's history is open, to the caller's events only.
      let notify = (message: string) =>
        Effect.flatMap(Clock.currentTimeMillis, (ms) =>
          options.emit === undefined ? Effect.void : options.emit({ type: "run.warning", at: new Date(ms).toISOString(), message })
        )
      // One runner per pipeline, then its state: the journal, the lock file, the run's history.
      const store = yield* currentStateStore
      const state = yield* store.openForRun(stateRefOf(pipeline), {
        command: `clapper ${options.worker ? "worker" : "run"} ${file}`,
        ...(options.worker ? { shared: true } : {}),
        pipeline: file,
        rebuild: options.rebuildState === true,
        // Every job of the pipeline, selected or not: the lock keeps the entries of the others.
        jobIds: new Set(plan.jobs.map((j) => j.id)),
        run: { command: options.commandLine ?? ["runPipeline", file], selection: options.select },
        ...(options.waitForRunner ? { wait: { waiting: announceWait(file, options.emit) } } : {}),
        notice: (message) => Effect.suspend(() => notify(message))
      })
      const { history } = state
      let lastSummary: RunSummary | undefined
      const forward = (event: RunEvent) =>
        Effect.zipRight(
          Effect.sync(() => {
            if (event.type === "run.finished") lastSummary = event.summary
          }).pipe(Effect.zipRight(history.record(event))),
          options.emit?.(event) ?? Effect.void
        )
      const warn = (message: string) =>
        Effect.flatMap(Clock.currentTimeMillis, (ms) => forward({ type: "run.warning", at: new Date(ms).toISOString(), message }))
      notify = warn
      // The results table the pipeline asks for is written as the run ends, from the state as the
      // run holds it, before `run.finished` (which stays the last event); failing to write it is a
      // warning: the renders are done and recorded.
      const platform = yield* Effect.context<FileSystem.FileSystem | Path.Path>()
      // A worker's own state holds what it did: the table and the lock file are of what every
      // runner did, read from the store once, as the run ends (a failed read is tried again).
      let readAtEnd: StoredState | undefined
      const storedAtEnd = Effect.suspend(() =>
        readAtEnd !== undefined
          ? Effect.succeed(readAtEnd)
          : Effect.tap(store.read(stateRefOf(pipeline)), (stored) => {
              readAtEnd = stored
            })
      )
      const finalState = options.worker ? storedAtEnd : Effect.map(state.recorder.lock, (lock) => ({ journal: state.journal, lock }))
      const resultsThen = (event: RunEvent) =>
        event.type !== "run.finished"
          ? Effect.void
          : Effect.flatMap(finalState, (final) => writeResultsAfterRun(pipeline, plan, final)).pipe(
              Effect.catchAll((e) => warn(`the results were not written: ${e.message}`)),
              Effect.provide(platform)
            )
      const emit = (event: RunEvent) => Effect.zipRight(resultsThen(event), forward(event))

      const run = Effect.gen(function* () {
        if (state.tookOverFrom) yield* warn(`took over the runner lock of ${describeHolder(state.tookOverFrom)}, which is gone`)
        for (const moved of state.setAside)
          yield* warn(`set ${moved.from} aside as ${moved.to}; the state is rebuilt from the lock file and the outputs on disk`)
        for (const warning of state.warnings) yield* warn(warning)
        const { journal, lock, recorder } = state
        // The whole plan is resumed (a render's bytes may be at an output that is not selected).
        const resumption = yield* resumeState(plan, journal, lock)
        for (const found of resumption.missingFromLock)
          yield* recorder.upToDate(found.job.id, lockEntryFor(found.job, found.videoId, found))
        const failed = new Set([...resumption.jobs].flatMap(([id, s]) => (s.name === "failed" ? [id] : [])))
        const chosen = selectPlan(plan, options.select, failed)
        if (Either.isLeft(chosen)) return yield* Effect.fail(chosen.left)
        const { selected } = chosen.right
        if (selected.nothingFailed) yield* warn("--retry-failed: no selected job failed in an earlier run: nothing to do")
        const only = new Set(selected.jobs.map((j) => j.id))
        const renders = selectedRenders(resumption.renders, only)
        const stageRecord = (fp: string) => journal.renders.get(fp)
        // A store shared by several machines shares the key's quota among them; else this machine's ledger.
        const quotaLedger =
          backend.quotaKey !== undefined && state.sharedQuota !== undefined ? state.sharedQuota(backend.quotaKey) : backend.quotaLedger
        if (settings.budgetUsd !== undefined) {
          const estimateUsd = remainingEstimateUsd(renders, stageRecord)
          if (estimateUsd > settings.budgetUsd + 1e-9)
            return yield* Effect.fail(new BudgetExceeded({ estimateUsd, limitUsd: settings.budgetUsd }))
        }
        // What plan checks at the provider is checked before the first paid request too: for the
        // selected jobs, and not at all when nothing is to be sent.
        if (renders.length > 0) yield* checkTemplatesBeforePaying(pipeline, chosen.right.plan).pipe(Effect.provide(backend.layer))
        const worker = options.worker ? yield* joinEngine(state.shared, journal, options.worker.address, settings) : undefined

        const summary = yield* runPlan(plan, {
          settings,
          emit,
          only,
          recorder,
          renders,
          claimed: claimedVideoIds(journal),
          orphanWindows: journal.orphanWindows,
          stageRecord,
          cacheDir: state.cacheDir,
          keyName: backend.keyName,
          ...(quotaLedger ? { quotaLedger } : {}),
          ...(worker ?? {})
        }).pipe(Effect.provide(backend.layer))
        yield* recorder.flush
        // This worker's lock file holds what it did; the store holds what every runner did.
        if (worker) yield* writeLockOf(pipeline, new Set(plan.jobs.map((j) => j.id)), (yield* storedAtEnd).lock)
        return summary
      })
      return yield* run.pipe(Effect.onExit((exit) => recordEnd(history, exit, lastSummary)))
    })
  )
