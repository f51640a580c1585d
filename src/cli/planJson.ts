/** The documented JSON form of a plan (`clapper plan --json`). */
import { relative, sep } from "node:path"
import type { JobState } from "../plan/resume.ts"
import type { PipelineState } from "../plan/planState.ts"
import type { PlannedJob, Plan } from "../plan/plan.ts"
import type { JobSelection } from "../plan/selection.ts"
import type { CampaignTime } from "./campaignTime.ts"

/** What a selection chose, for a command's JSON: the selectors as given and the counts. */
export interface SelectionSummary {
  readonly given: JobSelection
  /** Jobs selected (after `limit`). */
  readonly jobs: number
  /** Jobs the selectors matched before `limit`. */
  readonly matched: number
  /** Jobs in the pipeline. */
  readonly of: number
  /** `retryFailed` found no failed job: nothing to do. */
  readonly nothingFailed: boolean
}

const stateJson = (state: JobState | undefined) =>
  state === undefined
    ? {}
    : {
        state: state.name,
        ...(state.detail !== undefined ? { stateDetail: state.detail } : {}),
        ...(state.videoId !== undefined ? { videoId: state.videoId } : {})
      }

/** A job's output relative to the directory clapper was run from, with `/` on every system. */
export const shownOutput = (job: PlannedJob, cwd: string): string => relative(cwd, job.output).split(sep).join("/")

/** The plan's `totals`, with the state's counts and the campaign's time when known. */
export const planTotalsJson = (plan: Plan, state?: PipelineState, time?: CampaignTime) => ({
  ...plan.totals,
  ...(state ? { states: state.counts } : {}),
  ...(time ? { rendersToSubmit: time.renders, minimumDurationMs: time.minimumDurationMs, generationQuota: time.generationQuota } : {})
})

/**
 * `selection`, when given, says which of the pipeline's jobs `plan` holds (`--only`, `--set`, …).
 * The CLI writes the same text in pieces (`planJsonText.ts`); this object is the reference for it.
 */
export const planToJson = (plan: Plan, cwd: string, state?: PipelineState, time?: CampaignTime, selection?: SelectionSummary) => ({
  pipeline: plan.pipeline,
  ...(selection ? { selection } : {}),
  jobs: plan.jobs.map((job) => ({
    id: job.id,
    set: job.set,
    index: job.index,
    output: shownOutput(job, cwd),
    model: job.model,
    fingerprint: job.fingerprint,
    inputs: job.inputs,
    estimatedCostUsd: job.estimatedCostUsd,
    ...stateJson(state?.jobs.get(job.id))
  })),
  totals: planTotalsJson(plan, state, time)
})
