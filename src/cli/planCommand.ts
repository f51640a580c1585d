import { Args, Command, Options } from "@effect/cli"
import { Console, Effect } from "effect"
import { loadPipeline } from "../pipeline/load.ts"
import { planPipeline, type Plan } from "../plan/plan.ts"
import { planToJson } from "../plan/planJson.ts"
import { formatTable, usd } from "./table.ts"
import { exitOnInvalidPipeline } from "./userErrors.ts"

const file = Args.file({ name: "FILE" }).pipe(Args.withDescription("The pipeline file."))
const json = Options.boolean("json").pipe(Options.withDescription("Print the plan as one JSON object."))

const planLines = (plan: Plan): ReadonlyArray<string> => [
  `${plan.pipeline.name} (${plan.pipeline.file})`,
  "",
  ...formatTable(
    ["OUTPUT", "SET", "IMAGE", "AUDIO", "COST", "FINGERPRINT"],
    plan.jobs.map((job) => [
      job.id,
      job.set,
      job.inputs.image.path,
      `${job.inputs.audio.path} (${(job.inputs.audio.durationSeconds ?? 0).toFixed(1)} s)`,
      usd(job.estimatedCostUsd),
      job.fingerprint.slice("sha256:".length, "sha256:".length + 12)
    ])
  ),
  "",
  `${plan.totals.jobs} job${plan.totals.jobs === 1 ? "" : "s"}, ${plan.totals.renders} render${plan.totals.renders === 1 ? "" : "s"}, estimated ${usd(plan.totals.estimatedCostUsd)}`
]

export const planCommand = Command.make("plan", { file, json }, ({ file, json }) =>
  Effect.gen(function* () {
    const plan = yield* exitOnInvalidPipeline(Effect.flatMap(loadPipeline(file), planPipeline))
    if (json) yield* Console.log(JSON.stringify(planToJson(plan, process.cwd()), null, 2))
    else yield* Effect.forEach(planLines(plan), (line) => Console.log(line))
  })
).pipe(Command.withDescription("Show the jobs a pipeline expands to: inputs, output, fingerprint and estimated cost."))
