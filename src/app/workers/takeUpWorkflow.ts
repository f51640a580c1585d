/**
 * The durable workflow of a campaign worked by several runners: one per unit of work (a render
 * with its copies, or the overlay variants of one base video) and session of workers, keyed so
 * that a unit is one workflow whoever starts it. Its one activity takes the unit up on the runner
 * the engine chooses; an activity whose runner died runs again elsewhere, and goes on from what
 * was recorded (the render's own crash-resume: poll what was submitted, reconcile a submit whose
 * answer was lost), so nothing is paid twice.
 */
import { ClusterSchema } from "@effect/cluster"
import { Workflow } from "@effect/workflow"
import { Context, Schema } from "effect"

export const TakeUpPayload = {
  /** The campaign's key in the state store. */
  campaign: Schema.String,
  /** The session of workers that started it: a later session takes up what is left in workflows of its own. */
  epoch: Schema.Number,
  /** The unit's key (runtime/runPlan.ts `RunUnit`). */
  unit: Schema.String,
  /** Its jobs and the fingerprints its machine records under, for a runner whose plan does not hold it. */
  jobs: Schema.Array(Schema.String),
  fingerprints: Schema.Array(Schema.String)
}

/** Each job's outcome (runtime/machineContext.ts `JobOutcome`, as the runner that ran it reported it). */
export const TakeUpResult = Schema.Struct({
  outcomes: Schema.Array(Schema.Struct({ job: Schema.String, outcome: Schema.Unknown })),
  /** Started by an earlier session of workers: this session does it in a workflow of its own. */
  superseded: Schema.optional(Schema.Boolean)
})
export type TakeUpResult = typeof TakeUpResult.Type

/**
 * The engine's shard group of a campaign: only that campaign's workers own its shards, so a
 * runner is never handed a unit of a campaign whose pipeline it does not have (one database may
 * hold many campaigns and their workers).
 */
export const campaignShardGroup = (campaign: string) => `clapper-campaign-${campaign}`

export const takeUpWorkflow = (campaign: string) =>
  Workflow.make({
    name: "ClapperTakeUp",
    payload: TakeUpPayload,
    success: TakeUpResult,
    idempotencyKey: ({ campaign, epoch, unit }) => `${campaign}/${epoch}/${unit}`,
    annotations: Context.make(ClusterSchema.ShardGroup, () => campaignShardGroup(campaign))
  })
