/**
 * How long what is left of a campaign takes at least, for `clapper plan`: the renders still to
 * submit at the generation quota (and captionings at theirs). Under the published quota a
 * campaign is hours or days long; the plan says so before anything is paid.
 */
import { formatRate, type Quotas } from "../mirage/quotas.ts"
import type { Plan } from "../plan/plan.ts"
import { formatLongDuration, minimumDurationMs } from "../runtime/campaignDuration.ts"
import type { PipelineState } from "../plan/planState.ts"

export interface CampaignTime {
  /** Distinct renders (and captionings) still to submit. */
  readonly renders: number
  readonly captions: number
  readonly minimumDurationMs: number
  readonly generationQuota: string
}

export const campaignTime = (plan: Plan, state: PipelineState, quotas: Quotas): CampaignTime => {
  const renders = new Set<string>()
  const captions = new Set<string>()
  for (const job of plan.jobs) {
    const known = state.jobs.get(job.id)
    // In flight, up to date, or failed with its video known: nothing more to submit for it.
    const toSubmit =
      known === undefined || known.name === "new" || known.name === "changed" || (known.name === "failed" && known.videoId === undefined)
    if (!toSubmit) continue
    renders.add(job.stages.video)
    if (job.stages.captions) captions.add(job.stages.captions.fingerprint)
  }
  return {
    renders: renders.size,
    captions: captions.size,
    minimumDurationMs: minimumDurationMs({ generations: renders.size, captions: captions.size }, quotas),
    generationQuota: formatRate(quotas.generation)
  }
}

/** `1,000 renders to submit at 2 per minute: at least 8 h 20 min`. */
export const describeCampaignTime = (time: CampaignTime): string =>
  time.renders === 0
    ? "nothing to submit"
    : `${time.renders.toLocaleString("en-US")} render${time.renders === 1 ? "" : "s"} to submit at ${time.generationQuota}: at least ${formatLongDuration(time.minimumDurationMs)}`
