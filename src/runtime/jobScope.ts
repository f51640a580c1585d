/**
 * What one job's steps share: the job, the run's context, the client, and the job's own ways to
 * emit events, keep its progress, and retry a request. Built once per job; every step module
 * (submit, poll, deliver, speech) takes it.
 */
import { Clock, Effect, Ref } from "effect"
import { MirageClient, type MirageClientService } from "../mirage/MirageClient.ts"
import type { RequestKind } from "../mirage/quotas.ts"
import type { PlannedJob } from "../plan/plan.ts"
import type { StateIoError } from "../state/journal.ts"
import type { JobStep, RunEvent } from "./events.ts"
import type { JobProgress, MachineContext } from "./machineContext.ts"
import { retrying, type RetryNotice } from "./retry.ts"
import { StepFailed, type StepError } from "./stepErrors.ts"

export interface JobScope {
  readonly job: PlannedJob
  readonly ctx: MachineContext
  readonly client: MirageClientService
  /** An event of this job, stamped with the current time. */
  readonly emit: (event: (at: string) => RunEvent) => Effect.Effect<void>
  readonly setProgress: (progress: JobProgress | undefined) => Effect.Effect<void>
  /** Reports a retry (and a 429's hold on its kind) as events. */
  readonly onRetry: (notice: RetryNotice) => Effect.Effect<void>
  /** One request of `step`, waiting for `kind`'s quota, retried as the run's policy says. */
  readonly retry: <A, E extends StepError>(
    step: JobStep,
    kind: RequestKind,
    attempt: (n: number) => Effect.Effect<A, E>,
    notify?: (notice: RetryNotice) => Effect.Effect<void>
  ) => Effect.Effect<A, E>
  /** A step's error as the job's failure; a state folder that cannot be written stays itself (it stops the run). */
  readonly stepFailed: (step: JobStep, videoId?: string) => (error: StepError) => Effect.Effect<never, StepFailed | StateIoError>
}

const isoNow = Effect.map(Clock.currentTimeMillis, (ms) => new Date(ms).toISOString())

export const makeJobScope = (job: PlannedJob, ctx: MachineContext): Effect.Effect<JobScope, never, MirageClient> =>
  Effect.map(MirageClient, (client) => {
    const emit = (event: (at: string) => RunEvent) => Effect.flatMap(isoNow, (at) => ctx.emit(event(at)))
    const onRetry = (notice: RetryNotice) =>
      Effect.gen(function* () {
        const until = notice.throttledUntil
        if (until !== undefined) yield* emit((at) => ({ type: "run.throttled", at, untilMs: until, step: notice.step }))
        yield* emit((at) => ({
          type: "job.retrying",
          job: job.id,
          at,
          step: notice.step,
          attempt: notice.attempt,
          delayMs: notice.delayMs,
          reason: notice.reason,
          ...(until !== undefined ? { throttled: true } : {})
        }))
      })
    const scope: JobScope = {
      job,
      ctx,
      client,
      emit,
      setProgress: (progress) =>
        Ref.update(ctx.progress, (m) => {
          const next = new Map(m)
          if (progress === undefined) next.delete(job.id)
          else next.set(job.id, progress)
          return next
        }),
      onRetry,
      retry: (step, kind, attempt, notify = onRetry) =>
        retrying({ step, kind, policy: ctx.settings.retry, gate: ctx.gate, health: ctx.health, onRetry: notify, attempt }),
      stepFailed: (step, videoId) => (error) =>
        error._tag === "StateIoError"
          ? Effect.fail(error)
          : Effect.fail(
              new StepFailed({
                step,
                reason: error.message,
                ...(error._tag === "VideoFailed" ? { code: error.code } : {}),
                ...(videoId !== undefined ? { videoId } : {}),
                cause: error._tag
              })
            )
    }
    return scope
  })
