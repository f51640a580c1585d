/**
 * The scheduler: runs a plan's jobs through their step machines with `concurrency` jobs in flight
 * at the provider, separate limits for uploads and downloads, one rate limiter for every request,
 * and one render per fingerprint (the file is copied to the other outputs). A failed job never
 * stops the others. Ends with a summary, also when interrupted.
 */
import { FileSystem, Path } from "@effect/platform"
import { tmpdir } from "node:os"
import { MirageClient } from "../mirage/MirageClient.ts"
import { limits } from "../mirage/limits.ts"
import { formatRate } from "../mirage/quotas.ts"
import { fingerprint } from "../plan/fingerprint.ts"
import type { RenderRecord, SubmitWindow } from "../state/journalEntry.ts"
import { downloadToOutput } from "./download.ts"
import type { JobStep } from "./events.ts"
import { remainingEstimateUsd } from "./budget.ts"
import { retrying } from "./retry.ts"
import { Clock, Duration, Effect, Exit, Ref } from "effect"
import { lockEntryFor } from "../plan/lockEntry.ts"
import type { Plan, PlannedJob } from "../plan/plan.ts"
import type { FailedJob, InFlightJob, RunEvent, RunSummary } from "./events.ts"
import { digestFile } from "../media/digest.ts"
import type { RenderPlan } from "../plan/resume.ts"
import type { QuotaLedger } from "../state/quotaLedger.ts"
import type { StateIoError } from "../state/journal.ts"
import { makeApiHealth } from "./apiHealth.ts"
import { minimumDurationMs } from "./campaignDuration.ts"
import { runJob, submitPermits, type JobOutcome, type JobProgress, type MachineContext, type MachineStart } from "./jobMachine.ts"
import { noRecorder, type Recorder } from "../state/recorder.ts"
import { makeRequestGate } from "./requestGate.ts"
import type { RunSettings } from "./runSettings.ts"
import { makeRunStop, type RunStopReason } from "./runStop.ts"

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
}

/** Jobs grouped by fingerprint, in plan order: the first of each group renders, the rest copy. */
const renderGroups = (jobs: ReadonlyArray<PlannedJob>): ReadonlyArray<ReadonlyArray<PlannedJob>> => {
  const groups = new Map<string, Array<PlannedJob>>()
  for (const job of jobs) {
    const group = groups.get(job.fingerprint)
    if (group) group.push(job)
    else groups.set(job.fingerprint, [job])
  }
  return [...groups.values()]
}

const iso = (ms: number) => new Date(ms).toISOString()

const stopSummary = (reason: RunStopReason): NonNullable<RunSummary["stopped"]> => ({
  reason: reason._tag === "KeyRefused" ? "key-refused" : "state-unwritable",
  message: reason.message
})

export const runPlan = (
  plan: Plan,
  options: RunPlanOptions
): Effect.Effect<RunSummary, never, MirageClient | FileSystem.FileSystem | Path.Path> =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const { settings } = options
    const startedAt = yield* Clock.currentTimeMillis
    const jobs = plan.jobs.filter((job) => options.only?.has(job.id) ?? true)
    const wanted = new Set(jobs.map((j) => j.id))
    const renders: ReadonlyArray<RenderPlan> = (
      options.renders ?? renderGroups(jobs).map((group): RenderPlan => ({ fingerprint: group[0]!.fingerprint, needing: group, start: { _tag: "Submit" } }))
    ).map((r) => ({ ...r, needing: r.needing.filter((j) => wanted.has(j.id)) }))
    const needed = new Set(renders.flatMap((r) => r.needing.map((j) => j.id)))
    const upToDate = jobs.filter((job) => !needed.has(job.id)).map((j) => j.id)
    const toRender = renders.filter((r) => r.needing.length > 0)
    const recorder = options.recorder ?? noRecorder
    // Each job's outcome, set once by the fiber that ran it (a shared map: no copy per job).
    const outcomes = new Map<string, JobOutcome>()
    const emitNow = (event: (at: string) => RunEvent) => Effect.flatMap(Clock.currentTimeMillis, (ms) => options.emit(event(iso(ms))))
    const gate = yield* makeRequestGate({
      requestsPerSecond: settings.requestsPerSecond,
      // A burst of a fifth of a second's worth, so a run starts promptly without outrunning the rate.
      burst: Math.max(1, Math.ceil(settings.requestsPerSecond / 5)),
      quotas: settings.quotas,
      ...(options.quotaLedger ? { ledger: options.quotaLedger } : {})
    })
    const warned = new Set<string>()
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
        warned.has(key) ? Effect.void : Effect.zipRight(Effect.sync(() => void warned.add(key)), emitNow((at) => ({ type: "run.warning", at, message }))),
      uploads: yield* Effect.makeSemaphore(settings.uploads),
      downloads: yield* Effect.makeSemaphore(settings.downloads),
      emit: options.emit,
      stopping: yield* Ref.make(false),
      progress: yield* Ref.make<ReadonlyMap<string, JobProgress>>(new Map()),
      possibleDuplicates: yield* Ref.make(0),
      spentUsd: yield* Ref.make(0),
      recorder,
      claimed: new Set(options.claimed ?? []),
      orphanWindows: [...(options.orphanWindows ?? [])],
      submitting: yield* Effect.makeSemaphore(submitPermits),
      // Submits an earlier run left unanswered are unresolved from the start.
      unresolved: new Map(
        toRender.flatMap((r) =>
          r.start._tag === "Reconcile" && r.needing[0]
            ? [[r.needing[0].id, { from: r.start.intentAt, until: r.start.intentAt + Duration.toMillis(settings.requestTimeout) + Duration.toMillis(settings.settleTime) }] as const]
            : []
        )
      ),
      startedAt,
      stageRecord: options.stageRecord ?? (() => undefined),
      cacheDir: options.cacheDir ?? path.join(tmpdir(), `clapper-cache-${plan.pipeline.name}`)
    }
    const settle = (job: PlannedJob, outcome: JobOutcome) =>
      Effect.zipRight(
        Effect.sync(() => void outcomes.set(job.id, outcome)),
        // A detached or stopped job's progress says what exists at the provider: the summary reads it.
        outcome._tag === "Detached" || outcome._tag === "Stopped" ? Effect.void : Ref.update(ctx.progress, (m) => {
          const next = new Map(m)
          next.delete(job.id)
          return next
        })
      )

    /** A render's bytes, already on disk at `source`, put (atomically) at `target`'s output. */
    const place = (source: string, target: PlannedJob, videoId: string, options: { move: boolean; sharedWith?: string; speechSha256?: string | undefined }) =>
      Effect.gen(function* () {
        yield* fs.makeDirectory(path.dirname(target.output), { recursive: true })
        const temp = `${target.output}.copy.part`
        if (options.move) yield* fs.rename(source, temp)
        else yield* fs.copyFile(source, temp)
        yield* fs.rename(temp, target.output)
        const info = yield* fs.stat(target.output)
        const bytes = Number(info.size)
        const sha256 = yield* digestFile(target.output)
        const mtimeMs = info.mtime._tag === "Some" ? info.mtime.value.getTime() : 0
        const speech = options.speechSha256 ? { speechSha256: options.speechSha256 } : {}
        const facts = { sha256, size: bytes, mtimeMs, ...speech }
        yield* recorder.completed({ job: target.id, fp: target.fingerprint, videoId, entry: lockEntryFor(target, videoId, facts) }, facts, yield* Clock.currentTimeMillis)
        yield* emitNow((at) => ({
          type: "job.completed",
          job: target.id,
          at,
          videoId,
          output: target.output,
          bytes,
          ...(options.sharedWith !== undefined ? { sharedWith: options.sharedWith } : {})
        }))
        return { _tag: "Completed", videoId, bytes } as JobOutcome
      }).pipe(
        Effect.catchAll((e) =>
          e._tag === "StateIoError"
            ? stopForState(e)
            : Effect.succeed<JobOutcome>({ _tag: "Failed", step: "download", reason: `placing the render from ${source}: ${e.message}`, videoId })
        )
      )

    /** The state folder cannot be written: the run stops paying, this job with it. */
    const stopForState = (e: StateIoError) =>
      Effect.as(ctx.runStop.stop({ _tag: "StateUnwritable", message: e.message }), { _tag: "Stopped" } as JobOutcome)

    const report = (job: PlannedJob, outcome: JobOutcome) =>
      Effect.gen(function* () {
        yield* settle(job, outcome)
        const at = yield* Clock.currentTimeMillis
        if (outcome._tag === "Failed") {
          yield* recorder.failed({ job: job.id, fp: job.fingerprint }, outcome, at).pipe(Effect.catchAll(stopForState))
          yield* emitNow((at) => ({ type: "job.failed", job: job.id, at, step: outcome.step, reason: outcome.reason, ...(outcome.code ? { code: outcome.code } : {}), ...(outcome.videoId ? { videoId: outcome.videoId } : {}) }))
        } else if (outcome._tag === "Detached") {
          yield* emitNow((at) => ({ type: "job.detached", job: job.id, at, videoId: outcome.videoId }))
        }
      })

    const runRender = (render: RenderPlan) =>
      Effect.gen(function* () {
        const [leader, ...followers] = render.needing
        if (!leader) return
        const start = render.start
        // The leader gets the bytes (from a file on disk, or from the provider); the others copy them.
        const outcome: JobOutcome =
          start._tag === "FromFile"
            ? yield* place(start.source, leader, start.videoId, { move: start.move })
            : yield* runJob(leader, ctx, start as MachineStart)
        if (outcome._tag === "Completed" && start._tag !== "FromFile") {
          yield* emitNow((at) => ({ type: "job.completed", job: leader.id, at, videoId: outcome.videoId, output: leader.output, bytes: outcome.bytes }))
        }
        yield* report(leader, outcome)
        for (const follower of followers) {
          const shared: JobOutcome =
            outcome._tag === "Completed"
              ? yield* place(leader.output, follower, outcome.videoId, { move: false, sharedWith: leader.id })
              : outcome._tag === "Failed"
                ? { ...outcome, reason: `shares the render of ${leader.id}, which failed: ${outcome.reason}` }
                : outcome
          yield* report(follower, shared)
        }
      })

    /**
     * Overlay variants of one base video: the base is rendered (and captioned) once, downloaded
     * once, then sent with at most 4 texts per request; each variant's result is its own output.
     */
    const runOverlays = (group: ReadonlyArray<RenderPlan>) =>
      Effect.gen(function* () {
        const client = yield* MirageClient
        const first = group[0]?.needing[0]
        if (!first) return
        const fail = (reason: string, step: JobStep = "overlay"): JobOutcome => ({ _tag: "Failed", step, reason })
        const finishAll = (outcome: JobOutcome) => Effect.forEach(group.flatMap((r) => r.needing), (job) => report(job, outcome), { discard: true })
        const base = yield* runJob(first, ctx, { _tag: "Submit" }, { deliver: "base" })
        if (base._tag !== "Rendered") return yield* finishAll(base._tag === "Completed" ? fail("unexpected download of the base video") : base)
        const baseKey = first.stages.captions?.fingerprint ?? first.stages.video
        const baseFile = path.join(ctx.cacheDir, "base", `${baseKey.replace(/^sha256:/, "")}.mp4`)
        yield* fs.makeDirectory(path.dirname(baseFile), { recursive: true })
        if (!(yield* fs.exists(baseFile))) {
          yield* downloadToOutput({
            videoId: base.videoId,
            output: baseFile,
            retry: (attempt) => retrying({ step: "download", kind: "content", policy: settings.retry, gate: ctx.gate, health: ctx.health, onRetry: () => Effect.void, attempt: () => attempt({ resumeFrom: 0 }) })
          })
        }
        for (let i = 0; i < group.length; i += limits.maxOverlayTexts) {
          const chunk = group.slice(i, i + limits.maxOverlayTexts)
          const batchFp = fingerprint({ model: first.model, image: baseKey, audio: "", stages: { overlays: chunk.map((r) => r.fingerprint) } })
          const target = { job: first.id, fp: batchFp }
          const known = ctx.stageRecord(batchFp)
          let overlayId = known?.videoId
          if (!overlayId) {
            yield* recorder.intent(target, yield* Clock.currentTimeMillis)
            const items = chunk.map((r) => {
              const o = r.needing[0]?.stages.overlay
              return { text: o?.text ?? "", ...(o?.font ? { font: o.font } : {}), ...(o?.size ? { size: o.size } : {}), ...(o?.color ? { color: o.color } : {}) }
            })
            const created = yield* retrying({ step: "overlay", kind: "overlays", policy: settings.retry, gate: ctx.gate, health: ctx.health, onRetry: () => Effect.void, attempt: () => client.createTextOverlay({ videoPath: baseFile, items }) })
            overlayId = created.id
            yield* recorder.submitted(target, overlayId, yield* Clock.currentTimeMillis)
          }
          let job = yield* retrying({ step: "poll", kind: "status", policy: settings.retry, gate: ctx.gate, health: ctx.health, onRetry: () => Effect.void, attempt: () => client.getTextOverlay(overlayId as string) })
          while (job.status === "QUEUED" || job.status === "PROCESSING") {
            yield* Effect.sleep(settings.poll.interval)
            job = yield* retrying({ step: "poll", kind: "status", policy: settings.retry, gate: ctx.gate, health: ctx.health, onRetry: () => Effect.void, attempt: () => client.getTextOverlay(overlayId as string) })
          }
          if (job.status !== "COMPLETE") {
            yield* Effect.forEach(chunk.flatMap((r) => r.needing), (j) => report(j, fail(`the overlay job ${overlayId} ended ${job.status}${job.error ? `: ${job.error.message}` : ""}`)), { discard: true })
            continue
          }
          yield* recorder.rendered(target, overlayId, yield* Clock.currentTimeMillis)
          for (const [index, render] of chunk.entries()) {
            const [leader, ...followers] = render.needing
            const result = job.results?.find((r) => r.index === index)
            if (!leader) continue
            if (!result || result.status !== "COMPLETE" || !result.video_url) {
              yield* report(leader, fail(`overlay ${index} of ${overlayId} did not complete${result?.error ? `: ${result.error.message}` : ""}`))
              continue
            }
            const url = result.video_url
            const temp = path.join(path.dirname(leader.output), `.${path.basename(leader.output)}.part`)
            yield* fs.makeDirectory(path.dirname(leader.output), { recursive: true })
            yield* retrying({ step: "download", kind: "content", policy: settings.retry, gate: ctx.gate, health: ctx.health, onRetry: () => Effect.void, attempt: () => client.downloadUrl(url, { path: temp }) })
            const placed = yield* place(temp, leader, overlayId, { move: true, speechSha256: base.speechSha256 })
            yield* report(leader, placed)
            for (const follower of followers) {
              yield* report(
                follower,
                placed._tag === "Completed" ? yield* place(leader.output, follower, overlayId, { move: false, sharedWith: leader.id, speechSha256: base.speechSha256 }) : placed
              )
            }
          }
        }
      }).pipe(
        Effect.catchAll((error) =>
          Effect.forEach(
            group.flatMap((r) => r.needing),
            (job) => (error._tag === "StateIoError" ? Effect.flatMap(stopForState(error), (o) => report(job, o)) : report(job, { _tag: "Failed", step: "overlay", reason: error.message })),
            { discard: true }
          )
        )
      )

    /** Plain renders run on their own; overlay variants run together per base video. */
    const overlayGroups = new Map<string, Array<RenderPlan>>()
    const units: Array<Effect.Effect<void, never, MirageClient | FileSystem.FileSystem | Path.Path>> = []
    for (const render of toRender) {
      const job = render.needing[0]
      if (job?.stages.overlay && render.start._tag !== "FromFile") {
        const key = job.stages.captions?.fingerprint ?? job.stages.video
        const group = overlayGroups.get(key)
        if (group) group.push(render)
        else {
          const fresh = [render]
          overlayGroups.set(key, fresh)
          units.push(Effect.suspend(() => runOverlays(fresh)))
        }
      } else {
        units.push(runRender(render))
      }
    }

    const summarize = (interrupted: boolean) =>
      Effect.gen(function* () {
        const stopped = yield* ctx.runStop.reason
        const done = outcomes
        const inMachine = yield* Ref.get(ctx.progress)
        const completed: Array<string> = []
        const failed: Array<FailedJob> = []
        const inFlight: Array<InFlightJob> = []
        const skipped: Array<string> = []
        const unknownOutcome: Array<string> = []
        for (const job of jobs) {
          if (!needed.has(job.id)) continue
          const outcome = done.get(job.id)
          const progress = inMachine.get(job.id)
          if (outcome?._tag === "Completed") completed.push(job.id)
          else if (outcome?._tag === "Failed") {
            failed.push({ job: job.id, step: outcome.step, reason: outcome.reason, ...(outcome.code ? { code: outcome.code } : {}), ...(outcome.videoId ? { videoId: outcome.videoId } : {}) })
          } else if (outcome?._tag === "Detached") inFlight.push({ job: job.id, videoId: outcome.videoId })
          else if (progress?._tag === "Submitted") inFlight.push({ job: job.id, videoId: progress.videoId })
          else if (progress?._tag === "UnknownOutcome") unknownOutcome.push(job.id)
          else skipped.push(job.id)
        }
        const stoppedByBudget = !interrupted && stopped._tag === "None" && (yield* Ref.get(ctx.stopping)) && settings.budgetUsd !== undefined
        const summary: RunSummary = {
          jobs: jobs.length,
          upToDate,
          completed,
          failed,
          inFlight,
          skipped,
          unknownOutcome,
          possibleDuplicates: yield* Ref.get(ctx.possibleDuplicates),
          interrupted,
          ...(stoppedByBudget && settings.budgetUsd !== undefined ? { budget: { limitUsd: settings.budgetUsd, leftToDo: skipped.length } } : {}),
          spentUsd: Math.round((yield* Ref.get(ctx.spentUsd)) * 100) / 100,
          elapsedMs: (yield* Clock.currentTimeMillis) - startedAt,
          ...(stopped._tag === "Some" ? { stopped: stopSummary(stopped.value) } : {})
        }
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
    const stoppable = Effect.raceFirst(
      Effect.all(units, { concurrency: settings.concurrency, discard: true }),
      Effect.zipRight(ctx.runStop.stopped, Effect.zipRight(Ref.set(ctx.stopping, true), Effect.void))
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
