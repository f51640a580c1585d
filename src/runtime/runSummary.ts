/**
 * The run's summary, from each job's outcome and what the run knows of jobs still in the machine:
 * done, failed with reasons, in flight with their ids, unknown outcomes, skipped, spend, and why
 * the run stopped if it stopped early. True also for a run that was interrupted or stopped: a
 * job whose video exists is never reported as skipped.
 */
import type { PlannedJob } from "../plan/plan.ts"
import type { FailedJob, InFlightJob, RunSummary } from "./events.ts"
import type { JobOutcome, JobProgress } from "./machineContext.ts"
import type { RunStopReason } from "./runStop.ts"

export interface SummaryFacts {
  readonly jobs: ReadonlyArray<PlannedJob>
  readonly upToDate: ReadonlyArray<string>
  readonly outcomes: ReadonlyMap<string, JobOutcome>
  readonly inMachine: ReadonlyMap<string, JobProgress>
  readonly possibleDuplicates: number
  readonly interrupted: boolean
  /** Set when the run stopped submitting at the budget. */
  readonly budgetUsd: number | undefined
  readonly stopped: RunStopReason | undefined
  readonly spentUsd: number
  readonly elapsedMs: number
}

export const summarizeRun = (facts: SummaryFacts): RunSummary => {
  const upToDate = new Set(facts.upToDate)
  const completed: Array<string> = []
  const failed: Array<FailedJob> = []
  const inFlight: Array<InFlightJob> = []
  const skipped: Array<string> = []
  const unknownOutcome: Array<string> = []
  for (const job of facts.jobs) {
    if (upToDate.has(job.id)) continue
    const outcome = facts.outcomes.get(job.id)
    const progress = facts.inMachine.get(job.id)
    if (outcome?._tag === "Completed") completed.push(job.id)
    else if (outcome?._tag === "Failed") {
      failed.push({
        job: job.id,
        step: outcome.step,
        reason: outcome.reason,
        ...(outcome.code ? { code: outcome.code } : {}),
        ...(outcome.videoId ? { videoId: outcome.videoId } : {})
      })
    } else if (outcome?._tag === "Detached") inFlight.push({ job: job.id, videoId: outcome.videoId })
    else if (progress?._tag === "Submitted") inFlight.push({ job: job.id, videoId: progress.videoId })
    else if (progress?._tag === "UnknownOutcome") unknownOutcome.push(job.id)
    else skipped.push(job.id)
  }
  return {
    jobs: facts.jobs.length,
    upToDate: facts.upToDate,
    completed,
    failed,
    inFlight,
    skipped,
    unknownOutcome,
    possibleDuplicates: facts.possibleDuplicates,
    interrupted: facts.interrupted,
    ...(facts.budgetUsd !== undefined ? { budget: { limitUsd: facts.budgetUsd, leftToDo: skipped.length } } : {}),
    spentUsd: Math.round(facts.spentUsd * 100) / 100,
    elapsedMs: facts.elapsedMs,
    ...(facts.stopped
      ? { stopped: { reason: facts.stopped._tag === "KeyRefused" ? "key-refused" : "state-unwritable", message: facts.stopped.message } }
      : {})
  }
}
