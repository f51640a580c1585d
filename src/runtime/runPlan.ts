/**
 * The scheduler: runs a plan's renders through their step machines with `concurrency` in flight
 * at the provider, separate limits for uploads and downloads, one gate for every request (the
 * run's rate, the provider's quotas), and one render per fingerprint (the file is copied to the
 * other outputs); overlay variants run together per base video. A failed job never stops the
 * others; the key refused or the state unwritable stops the run. Ends with a true summary, also
 * when interrupted.
 */
import type { FileSystem, Path } from "@effect/platform"
import { Clock, Duration, Effect, Option, Ref } from "effect"
import { tmpdir } from "node:os"
import { join } from "node:path"
import type { MirageClient } from "../mirage/MirageClient.ts"
import { formatRate } from "../mirage/quotas.ts"
import type { Plan, PlannedJob } from "../plan/plan.ts"
import { groupByFingerprint, type RenderPlan } from "../plan/resume.ts"
import type { StateIoError } from "../state/journal.ts"
import type { RenderRecord, SubmitWindow } from "../state/journalEntry.ts"
import type { QuotaLedger } from "../state/quotaLedger.ts"
import type { CampaignSubmits } from "../state/sharedCampaign.ts"
import { noRecorder, type Recorder } from "../state/recorder.ts"
import { makeApiHealth } from "./apiHealth.ts"
import { makeRunBudget, remainingEstimateUsd } from "./budget.ts"
import { minimumDurationMs } from "./campaignDuration.ts"
import { placeOutput } from "./deliver.ts"
import type { RunEvent, RunSummary } from "./events.ts"
import { runJob } from "./jobMachine.ts"
import type { JobOutcome, JobProgress, MachineContext, MachineStart } from "./machineContext.ts"
import { overlayBatchFingerprints, runOverlayGroup, type Report } from "./overlays.ts"
import { makeRequestGate } from "./requestGate.ts"
import type { RunSettings } from "./runSettings.ts"
import { makeRunStop } from "./runStop.ts"
import { summarizeRun } from "./runSummary.ts"
import { makeSubmitLedger } from "./submitLedger.ts"

export interface RunPlanOptions {
  readonly settings: RunSettings
  /** Receives every event, in order. */
  readonly emit: (event: RunEvent) => Effect.Effect<void>
  /** Called with the summary before the run ends, also when it is interrupted (e.g. to record what is in flight). */
  readonly onFinish?: (summary: RunSummary) => Effect.Effect<void, never, FileSystem.FileSystem | Path.Path>
  /** Only these jobs (ids); default all. */
  readonly only?: ReadonlySet<string>
  /** Where each transition is written down (the journal and lock file); default nowhere. */
  readonly recorder?: Recorder
  /** What earlier runs left, per render; default: every render starts from a submit. */
  readonly renders?: ReadonlyArray<RenderPlan>
  /** Video ids that already belong to jobs (from the journal). */
  readonly claimed?: ReadonlySet<string>
  /** Windows of earlier lost submits that were resubmitted unmatched (from the journal). */
  readonly orphanWindows?: ReadonlyArray<SubmitWindow>
  /** What the journal knows of each remote job, by fingerprint (finished stages are not redone). */
  readonly stageRecord?: (fp: string) => RenderRecord | undefined
  /** Where speech and intermediate videos are kept; default a folder in the system's temp dir. */
  readonly cacheDir?: string
  /** The key's quota slots shared with other processes on this machine; default: this run alone. */
  readonly quotaLedger?: QuotaLedger
  /** How messages name the key (its environment variable); default "the API key". */
  readonly keyName?: string
  /**
   * Where the units run; default here, `concurrency` at a time. Several runners of one campaign
   * (`clapper worker`) hand each unit to the one the durable engine chooses.
   */
  readonly distribute?: Distribute
  /** What every runner of the campaign recorded of submits, when several work it: a reconciliation reads it. */
  readonly campaignSubmits?: Effect.Effect<CampaignSubmits, StateIoError>
}

/** One thing the scheduler runs: a render (its copies with it), or the overlay variants of one base video. */
export interface RunUnit {
  /** The same from every runner of the campaign: the render's fingerprint, or the base video's. */
  readonly key: string
  /** The fingerprints whose records its machine reads and writes. */
  readonly fingerprints: ReadonlyArray<string>
  /** The jobs it delivers (their outcomes are reported as they end). */
  readonly jobs: ReadonlyArray<PlannedJob>
  /** Runs it; `restart` gives each render's start afresh (another runner may have moved it on); default as planned. */
  readonly run: (
    restart?: (render: RenderPlan) => RenderPlan
  ) => Effect.Effect<void, never, MirageClient | FileSystem.FileSystem | Path.Path>
}

/** Runs every unit, and sets each job's outcome in `outcomes` (where it ran). */
export type Distribute = (
  units: ReadonlyArray<RunUnit>,
  run: { readonly concurrency: number; readonly outcomes: Map<string, JobOutcome> }
) => Effect.Effect<void, never, MirageClient | FileSystem.FileSystem | Path.Path>

const runHere: Distribute = (units, { concurrency }) =>
  Effect.all(
    units.map((unit) => unit.run()),
    { concurrency, discard: true }
  )

const iso = (ms: number) => new Date(ms).toISOString()

/** A render the step machine runs (not one already up to date, nor one copied from a file on disk). */
const fromMachine = (start: RenderPlan["start"]): start is MachineStart => start._tag !== "UpToDate" && start._tag !== "FromFile"

/** The run's shared context: limits, ledgers, recorder, events. */
const makeContext = (plan: Plan, options: RunPlanOptions, toRender: ReadonlyArray<RenderPlan>, startedAt: number) =>
  Effect.gen(function* () {
    const { settings } = options
    const emitNow = (event: (at: string) => RunEvent) => Effect.flatMap(Clock.currentTimeMillis, (ms) => options.emit(event(iso(ms))))
    const gate = yield* makeRequestGate({
      requestsPerSecond: settings.requestsPerSecond,
      // A burst of a fifth of a second's worth, so a run starts promptly without outrunning the rate.
      burst: Math.max(1, Math.ceil(settings.requestsPerSecond / 5)),
      quotas: settings.quotas,
      ...(options.quotaLedger ? { ledger: options.quotaLedger } : {})
    })
    const stopping = yield* Ref.make(false)
    const warned = new Set<string>()
    // Submits an earlier run left unanswered are unresolved from the start.
    /** The window of a submit announced at `intentAt` and never answered: it may have taken a request timeout (and the settle time) to land. */
    const windowOf = (intentAt: number) => ({
      from: intentAt,
      until: intentAt + Duration.toMillis(settings.requestTimeout) + Duration.toMillis(settings.settleTime)
    })
    const unresolved = toRender.flatMap((r) => {
      const job = r.needing[0]
      if (r.start._tag !== "Reconcile" || !job) return []
      return [[job.id, windowOf(r.start.intentAt)] as const]
    })
    const campaignSubmits = options.campaignSubmits
    // Another runner's submit may be in flight or lost with it: its window is as unresolved as ours.
    // Unreadable, nothing can be told apart: nothing is adopted (a resubmit, at worst paid twice).
    const elsewhere = campaignSubmits
      ? (job: string) =>
          campaignSubmits.pipe(
            Effect.map((s) => ({
              claimed: s.claimed,
              windows: [...s.unanswered.filter((u) => u.job !== job).map((u) => windowOf(u.intentAt)), ...s.orphanWindows]
            })),
            Effect.orElseSucceed(() => ({ claimed: new Set<string>(), windows: [{ from: 0, until: Number.MAX_SAFE_INTEGER }] }))
          )
      : undefined
    const ctx: MachineContext = {
      settings,
      gate,
      health: yield* makeApiHealth(gate, {
        onOutage: (outage) =>
          emitNow((at) => ({ type: "run.waiting", at, reason: outage.reason, sinceMs: outage.since, retryAtMs: outage.retryAt })),
        onRecovered: (downForMs) => emitNow((at) => ({ type: "run.resumed", at, downForMs }))
      }),
      runStop: yield* makeRunStop,
      keyName: options.keyName ?? "the API key",
      warnOnce: (key, message) =>
        warned.has(key)
          ? Effect.void
          : Effect.zipRight(
              Effect.sync(() => void warned.add(key)),
              emitNow((at) => ({ type: "run.warning", at, message }))
            ),
      uploads: yield* Effect.makeSemaphore(settings.uploads),
      downloads: yield* Effect.makeSemaphore(settings.downloads),
      emit: options.emit,
      stopping,
      progress: yield* Ref.make<ReadonlyMap<string, JobProgress>>(new Map()),
      possibleDuplicates: yield* Ref.make(0),
      budget: yield* makeRunBudget(settings.budgetUsd, stopping),
      ledger: yield* makeSubmitLedger({
        claimed: options.claimed ?? [],
        orphanWindows: options.orphanWindows ?? [],
        unresolved,
        ...(elsewhere ? { elsewhere } : {})
      }),
      recorder: options.recorder ?? noRecorder,
      startedAt,
      stageRecord: options.stageRecord ?? (() => undefined),
      cacheDir: options.cacheDir ?? join(tmpdir(), `clapper-cache-${plan.pipeline.name}`)
    }
    return { ctx, emitNow }
  })

/** The state folder cannot be written: the run stops paying, this job with it. */
const stopForState = (ctx: MachineContext) => (e: StateIoError) =>
  Effect.as(ctx.runStop.stop({ _tag: "StateUnwritable", message: e.message }), { _tag: "Stopped" } as JobOutcome)

/** A job's outcome, kept for the summary, recorded when it failed, announced. */
const makeReport =
  (ctx: MachineContext, emitNow: (event: (at: string) => RunEvent) => Effect.Effect<void>, outcomes: Map<string, JobOutcome>) =>
  (job: PlannedJob, outcome: JobOutcome) =>
    Effect.gen(function* () {
      outcomes.set(job.id, outcome)
      // A detached or stopped job's progress says what exists at the provider: the summary reads it.
      if (outcome._tag !== "Detached" && outcome._tag !== "Stopped") {
        yield* Ref.update(ctx.progress, (m) => {
          const next = new Map(m)
          next.delete(job.id)
          return next
        })
      }
      const at = yield* Clock.currentTimeMillis
      if (outcome._tag === "Failed") {
        yield* ctx.recorder.failed({ job: job.id, fp: job.fingerprint }, outcome, at).pipe(Effect.catchAll(stopForState(ctx)))
        yield* emitNow((at) => ({
          type: "job.failed",
          job: job.id,
          at,
          step: outcome.step,
          reason: outcome.reason,
          ...(outcome.code ? { code: outcome.code } : {}),
          ...(outcome.videoId ? { videoId: outcome.videoId } : {})
        }))
      } else if (outcome._tag === "Detached") {
        yield* emitNow((at) => ({ type: "job.detached", job: job.id, at, videoId: outcome.videoId }))
      }
    })

/** One render: the leader gets the bytes (from a file on disk, or from the provider); the others copy them. */
const runRender = (ctx: MachineContext, report: Report) => (render: RenderPlan) =>
  Effect.gen(function* () {
    const [leader, ...followers] = render.needing
    if (!leader) return
    const start = render.start
    const outcome: JobOutcome =
      start._tag === "FromFile"
        ? yield* placeOutput(ctx, start.source, leader, start.videoId, { move: start.move }).pipe(Effect.catchAll(stopForState(ctx)))
        : fromMachine(start)
          ? yield* runJob(leader, ctx, start)
          : { _tag: "Skipped" }
    yield* report(leader, outcome)
    for (const follower of followers) {
      const shared: JobOutcome =
        outcome._tag === "Completed"
          ? yield* placeOutput(ctx, leader.output, follower, outcome.videoId, { move: false, sharedWith: leader.id }).pipe(
              Effect.catchAll(stopForState(ctx))
            )
          : outcome._tag === "Failed"
            ? { ...outcome, reason: `shares the render of ${leader.id}, which failed: ${outcome.reason}` }
            : outcome
      yield* report(follower, shared)
    }
  })

/** The fingerprints a render's machine records under: its own, and those of the stages it builds on. */
const stageFingerprints = (render: RenderPlan) => {
  const job = render.needing[0]
  return [render.fingerprint, ...(job ? [job.stages.video, ...(job.stages.captions ? [job.stages.captions.fingerprint] : [])] : [])]
}

/** What the scheduler runs: plain renders on their own, overlay variants together per base video. */
const unitsOf = (toRender: ReadonlyArray<RenderPlan>, ctx: MachineContext, report: Report): ReadonlyArray<RunUnit> => {
  const overlayGroups = new Map<string, Array<RenderPlan>>()
  const units: Array<RunUnit> = []
  for (const render of toRender) {
    const job = render.needing[0]
    if (job?.stages.overlay && render.start._tag !== "FromFile") {
      const key = job.stages.captions?.fingerprint ?? job.stages.video
      const group = overlayGroups.get(key)
      if (group) group.push(render)
      else {
        const fresh = [render]
        overlayGroups.set(key, fresh)
        units.push({
          key,
          // Read when the unit is taken up: the group is complete by then.
          get fingerprints() {
            return [...new Set([...fresh.flatMap(stageFingerprints), ...overlayBatchFingerprints(fresh)])]
          },
          get jobs() {
            return fresh.flatMap((r) => r.needing)
          },
          run: (restart) => Effect.suspend(() => runOverlayGroup(restart ? fresh.map(restart) : fresh, ctx, report))
        })
      }
    } else {
      units.push({
        key: render.fingerprint,
        fingerprints: stageFingerprints(render),
        jobs: render.needing,
        run: (restart) => Effect.suspend(() => runRender(ctx, report)(restart ? restart(render) : render))
      })
    }
  }
  return units
}

export const runPlan = (
  plan: Plan,
  options: RunPlanOptions
): Effect.Effect<RunSummary, never, MirageClient | FileSystem.FileSystem | Path.Path> =>
  Effect.gen(function* () {
    const { settings } = options
    const startedAt = yield* Clock.currentTimeMillis
    const jobs = plan.jobs.filter((job) => options.only?.has(job.id) ?? true)
    const wanted = new Set(jobs.map((j) => j.id))
    const renders: ReadonlyArray<RenderPlan> = (
      options.renders ??
      groupByFingerprint(jobs).map(
        (group): RenderPlan => ({ fingerprint: group[0]!.fingerprint, needing: group, start: { _tag: "Submit" } })
      )
    ).map((r) => ({ ...r, needing: r.needing.filter((j) => wanted.has(j.id)) }))
    const needed = new Set(renders.flatMap((r) => r.needing.map((j) => j.id)))
    const upToDate = jobs.filter((job) => !needed.has(job.id)).map((j) => j.id)
    const toRender = renders.filter((r) => r.needing.length > 0)
    const { ctx, emitNow } = yield* makeContext(plan, options, toRender, startedAt)
    // Each job's outcome, set once by the fiber that ran it (a shared map: no copy per job).
    const outcomes = new Map<string, JobOutcome>()

    const report = makeReport(ctx, emitNow, outcomes)
    const units = unitsOf(toRender, ctx, report)

    const summarize = (interrupted: boolean) =>
      Effect.gen(function* () {
        const stopped = Option.getOrUndefined(yield* ctx.runStop.reason)
        const stoppedByBudget = !interrupted && stopped === undefined && (yield* Ref.get(ctx.stopping)) && settings.budgetUsd !== undefined
        const summary = summarizeRun({
          jobs,
          upToDate,
          outcomes,
          inMachine: yield* Ref.get(ctx.progress),
          possibleDuplicates: yield* Ref.get(ctx.possibleDuplicates),
          interrupted,
          budgetUsd: stoppedByBudget ? settings.budgetUsd : undefined,
          stopped,
          spentUsd: yield* ctx.budget.spentUsd,
          elapsedMs: (yield* Clock.currentTimeMillis) - startedAt
        })
        if (options.onFinish) yield* options.onFinish(summary)
        yield* emitNow((at) => ({ type: "run.finished", at, summary }))
        return summary
      })

    const renderCount = toRender.filter((r) => r.start._tag === "Submit" || r.start._tag === "Reconcile").length
    yield* emitNow((at) => ({
      type: "run.started",
      at,
      pipeline: plan.pipeline.name,
      jobs: jobs.length - upToDate.length,
      renders: renderCount,
      concurrency: settings.concurrency,
      // Each video and captioning once, however many outputs (copies, overlay variants) share it.
      estimatedCostUsd: remainingEstimateUsd(toRender, ctx.stageRecord),
      minimumDurationMs: minimumDurationMs({ generations: renderCount }, settings.quotas),
      generationQuota: formatRate(settings.quotas.generation)
    }))
    for (const job of toRender.flatMap((r) => r.needing)) {
      yield* emitNow((at) => ({ type: "job.queued", job: job.id, at, set: job.set, estimatedCostUsd: job.estimatedCostUsd }))
    }
    // A run-level stop (the key refused, the state unwritable) ends the jobs as Ctrl-C does.
    const distribute = options.distribute ?? runHere
    const stoppable = Effect.raceFirst(
      distribute(units, { concurrency: settings.concurrency, outcomes }),
      Effect.zipRight(ctx.runStop.stopped, Ref.set(ctx.stopping, true))
    )
    yield* stoppable.pipe(
      // Runs after every job's own finalizers (a submit in flight settles first), so the summary
      // of an interrupted run knows which videos exist.
      Effect.onInterrupt(() =>
        Effect.gen(function* () {
          yield* Ref.set(ctx.stopping, true)
          yield* emitNow((at) => ({ type: "run.stopping", at, reason: "interrupted" }))
          yield* summarize(true)
        })
      )
    )
    return yield* summarize(false)
  })
