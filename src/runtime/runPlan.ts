/**
 * The scheduler: runs a plan's jobs through their step machines with `concurrency` jobs in flight
 * at the provider, separate limits for uploads and downloads, one rate limiter for every request,
 * and one render per fingerprint (the file is copied to the other outputs). A failed job never
 * stops the others. Ends with a summary, also when interrupted.
 */
import { FileSystem, Path } from "@effect/platform"
import { Clock, Effect, Exit, Ref } from "effect"
import type { MirageClient } from "../mirage/MirageClient.ts"
import type { Plan, PlannedJob } from "../plan/plan.ts"
import type { FailedJob, InFlightJob, RunEvent, RunSummary } from "./events.ts"
import { runJob, type JobOutcome, type JobProgress, type MachineContext } from "./jobMachine.ts"
import { makeRequestGate } from "./requestGate.ts"
import type { RunSettings } from "./runSettings.ts"

export interface RunPlanOptions {
  readonly settings: RunSettings
  /** Receives every event, in order. */
  readonly emit: (event: RunEvent) => Effect.Effect<void>
  /** Called with the summary before the run ends, also when it is interrupted (e.g. to record what is in flight). */
  readonly onFinish?: (summary: RunSummary) => Effect.Effect<void, never, FileSystem.FileSystem | Path.Path>
  /** Only these jobs (ids); default all. */
  readonly only?: ReadonlySet<string>
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
    const groups = renderGroups(jobs)
    const outcomes = yield* Ref.make<ReadonlyMap<string, JobOutcome>>(new Map())
    const ctx: MachineContext = {
      settings,
      // A burst of a fifth of a second's worth, so a run starts promptly without outrunning the rate.
      gate: yield* makeRequestGate(settings.requestsPerSecond, Math.max(1, Math.ceil(settings.requestsPerSecond / 5))),
      uploads: yield* Effect.makeSemaphore(settings.uploads),
      downloads: yield* Effect.makeSemaphore(settings.downloads),
      emit: options.emit,
      stopping: yield* Ref.make(false),
      progress: yield* Ref.make<ReadonlyMap<string, JobProgress>>(new Map()),
      possibleDuplicates: yield* Ref.make(0),
      spentUsd: yield* Ref.make(0)
    }
    const emitNow = (event: (at: string) => RunEvent) => Effect.flatMap(Clock.currentTimeMillis, (ms) => options.emit(event(iso(ms))))
    const settle = (job: PlannedJob, outcome: JobOutcome) =>
      Effect.zipRight(
        Ref.update(outcomes, (m) => new Map(m).set(job.id, outcome)),
        outcome._tag === "Detached" ? Effect.void : Ref.update(ctx.progress, (m) => {
          const next = new Map(m)
          next.delete(job.id)
          return next
        })
      )

    /** The file rendered for `leader`, copied (atomically) to `follower`'s output. */
    const copyShared = (leader: PlannedJob, follower: PlannedJob, videoId: string) =>
      Effect.gen(function* () {
        yield* fs.makeDirectory(path.dirname(follower.output), { recursive: true })
        const temp = `${follower.output}.copy.part`
        yield* fs.copyFile(leader.output, temp)
        yield* fs.rename(temp, follower.output)
        const bytes = Number((yield* fs.stat(follower.output)).size)
        yield* emitNow((at) => ({ type: "job.completed", job: follower.id, at, videoId, output: follower.output, bytes, sharedWith: leader.id }))
        return { _tag: "Completed", videoId, bytes } as JobOutcome
      }).pipe(
        Effect.catchAll((e) =>
          Effect.succeed<JobOutcome>({ _tag: "Failed", step: "download", reason: `copying ${leader.id}'s render: ${e.message}`, videoId })
        )
      )

    const runGroup = (group: ReadonlyArray<PlannedJob>) =>
      Effect.gen(function* () {
        const [leader, ...followers] = group
        if (!leader) return
        const outcome = yield* runJob(leader, ctx)
        yield* settle(leader, outcome)
        if (outcome._tag === "Completed") {
          yield* emitNow((at) => ({ type: "job.completed", job: leader.id, at, videoId: outcome.videoId, output: leader.output, bytes: outcome.bytes }))
        } else if (outcome._tag === "Failed") {
          yield* emitNow((at) => ({ type: "job.failed", job: leader.id, at, step: outcome.step, reason: outcome.reason, ...(outcome.code ? { code: outcome.code } : {}), ...(outcome.videoId ? { videoId: outcome.videoId } : {}) }))
        } else if (outcome._tag === "Detached") {
          yield* emitNow((at) => ({ type: "job.detached", job: leader.id, at, videoId: outcome.videoId }))
        }
        for (const follower of followers) {
          const shared: JobOutcome =
            outcome._tag === "Completed"
              ? yield* copyShared(leader, follower, outcome.videoId)
              : outcome._tag === "Failed"
                ? { ...outcome, reason: `shares the render of ${leader.id}, which failed: ${outcome.reason}` }
                : outcome
          if (shared._tag === "Failed") {
            yield* emitNow((at) => ({ type: "job.failed", job: follower.id, at, step: shared.step, reason: shared.reason }))
          } else if (shared._tag === "Detached") {
            yield* emitNow((at) => ({ type: "job.detached", job: follower.id, at, videoId: shared.videoId }))
          }
          yield* settle(follower, shared)
        }
      })

    const summarize = (interrupted: boolean) =>
      Effect.gen(function* () {
        const done = yield* Ref.get(outcomes)
        const inMachine = yield* Ref.get(ctx.progress)
        const completed: Array<string> = []
        const failed: Array<FailedJob> = []
        const inFlight: Array<InFlightJob> = []
        const skipped: Array<string> = []
        const unknownOutcome: Array<string> = []
        for (const job of jobs) {
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
        const summary: RunSummary = {
          jobs: jobs.length,
          completed,
          failed,
          inFlight,
          skipped,
          unknownOutcome,
          possibleDuplicates: yield* Ref.get(ctx.possibleDuplicates),
          interrupted,
          spentUsd: Math.round((yield* Ref.get(ctx.spentUsd)) * 100) / 100,
          elapsedMs: (yield* Clock.currentTimeMillis) - startedAt
        }
        if (options.onFinish) yield* options.onFinish(summary)
        yield* emitNow((at) => ({ type: "run.finished", at, summary }))
        return summary
      })

    yield* emitNow((at) => ({
      type: "run.started",
      at,
      pipeline: plan.pipeline.name,
      jobs: jobs.length,
      renders: groups.length,
      concurrency: settings.concurrency,
      estimatedCostUsd: Math.round(groups.reduce((sum, g) => sum + (g[0]?.estimatedCostUsd ?? 0), 0) * 100) / 100
    }))
    for (const job of jobs) {
      yield* emitNow((at) => ({ type: "job.queued", job: job.id, at, set: job.set, estimatedCostUsd: job.estimatedCostUsd }))
    }
    yield* Effect.forEach(groups, runGroup, { concurrency: settings.concurrency, discard: true }).pipe(
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
