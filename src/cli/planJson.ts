/** The documented JSON form of a plan (`clapper plan --json`). */
import { relative, sep } from "node:path"
import type { JobState } from "../plan/resume.ts"
import type { PipelineState } from "../plan/planState.ts"
import type { Plan } from "../plan/plan.ts"
import type { CampaignTime } from "./campaignTime.ts"

const stateJson = (state: JobState | undefined) =>
  state === undefined
    ? {}
    : {
        state: state.name,
        ...(state.detail !== undefined ? { stateDetail: state.detail } : {}),
        ...(state.videoId !== undefined ? { videoId: state.videoId } : {})
      }

export const planToJson = (plan: Plan, cwd: string, state?: PipelineState, time?: CampaignTime) => ({
  pipeline: plan.pipeline,
  jobs: plan.jobs.map((job) => ({
    id: job.id,
    set: job.set,
    index: job.index,
    /** Relative to the directory clapper was run from. */
    output: relative(cwd, job.output).split(sep).join("/"),
    model: job.model,
    fingerprint: job.fingerprint,
    inputs: job.inputs,
    estimatedCostUsd: job.estimatedCostUsd,
    ...stateJson(state?.jobs.get(job.id))
  })),
  totals: {
    ...plan.totals,
    ...(state ? { states: state.counts } : {}),
    ...(time ? { rendersToSubmit: time.renders, minimumDurationMs: time.minimumDurationMs, generationQuota: time.generationQuota } : {})
  }
})
