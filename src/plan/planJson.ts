/** The documented JSON form of a plan (`clapper plan --json`). */
import { relative, sep } from "node:path"
import type { Plan } from "./plan.ts"

export const planToJson = (plan: Plan, cwd: string) => ({
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
    estimatedCostUsd: job.estimatedCostUsd
  })),
  totals: plan.totals
})
