/**
 * The budget check before a run: the estimated cost of what is left to do (stages already
 * submitted in an earlier run are not counted again) against \`run.budgetUsd\`. Over it, the run
 * is refused before any request that costs money.
 */
import { Data, Effect, Ref } from "effect"
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

/** The next submission would pass the run's budget: nothing more is submitted. */
export class OverBudget extends Data.TaggedClass("OverBudget")<{}> {}

/**
 * The run's spend: each submission commits its stage's estimated cost before it is sent, and gets
 * it back when the provider certainly made nothing. A submission that would pass the budget is
 * refused, and the run stops submitting.
 */
export interface RunBudget {
  readonly reserve: (costUsd: number) => Effect.Effect<void, OverBudget>
  readonly refund: (costUsd: number) => Effect.Effect<void>
  /** Estimated spend committed so far (USD). */
  readonly spentUsd: Effect.Effect<number>
}

export const makeRunBudget = (limitUsd: number | undefined, stopping: Ref.Ref<boolean>): Effect.Effect<RunBudget> =>
  Effect.map(Ref.make(0), (spent) => ({
    reserve: (costUsd) =>
      Effect.flatMap(
        Ref.modify(spent, (usd) => (limitUsd !== undefined && usd + costUsd > limitUsd + 1e-9 ? [false, usd] : [true, usd + costUsd])),
        (ok) => (ok ? Effect.void : Effect.zipRight(Ref.set(stopping, true), Effect.fail(new OverBudget())))
      ),
    refund: (costUsd) => Ref.update(spent, (usd) => usd - costUsd),
    spentUsd: Ref.get(spent)
  }))
