/**
 * The budget check before a run: the estimated cost of what is left to do (stages already
 * submitted in an earlier run are not counted again) against \`run.budgetUsd\`. Over it, the run
 * is refused before any request that costs money.
 */
import { Data } from "effect"
import type { RenderPlan } from "../plan/resume.ts"
import type { RenderRecord } from "../state/journalEntry.ts"

export class BudgetExceeded extends Data.TaggedError("BudgetExceeded")<{
  readonly estimateUsd: number
  readonly limitUsd: number
}> {
  override get message() {
    return `the estimated cost of what is left to do, $${this.estimateUsd.toFixed(2)}, is over the budget of $${this.limitUsd.toFixed(2)} (run.budgetUsd or --budget): nothing was sent. Raise the budget, or render fewer jobs.`
  }
}

export const remainingEstimateUsd = (renders: ReadonlyArray<RenderPlan>, stageRecord: (fp: string) => RenderRecord | undefined): number => {
  const costs = new Map<string, number>()
  const pending = (fp: string) => {
    const status = stageRecord(fp)?.status
    return status !== "submitted" && status !== "complete" && status !== "detached"
  }
  for (const render of renders) {
    if (render.start._tag === "UpToDate" || render.start._tag === "FromFile" || render.start._tag === "Download") continue
    for (const job of render.needing) {
      if (pending(job.stages.video)) costs.set(job.stages.video, job.costUsd.video)
      const captions = job.stages.captions
      if (captions && pending(captions.fingerprint)) costs.set(captions.fingerprint, job.costUsd.captions ?? 0)
    }
  }
  return Math.round([...costs.values()].reduce((a, b) => a + b, 0) * 100) / 100
}
