import { Args, Command, Options } from "@effect/cli"
import { Console, Effect } from "effect"
import { loadPipeline } from "../pipeline/load.ts"
import { planPipeline, type Plan } from "../plan/plan.ts"
import { planToJson } from "./planJson.ts"
import { campaignTime, describeCampaignTime, type CampaignTime } from "./campaignTime.ts"
import { quotaOption, quotaOverrides } from "./quotaOption.ts"
import { resolveRunSettings } from "../runtime/runSettings.ts"
import { jobStateNames, type PipelineState } from "../plan/planState.ts"
import { formatTable, usd } from "./table.ts"
import { PipelineInvalid } from "../pipeline/diagnostic.ts"
import { checkCaptionTemplates } from "../plan/checkCaptionTemplates.ts"
import { exitOnInvalidPipeline, invalidInputExit } from "./userErrors.ts"
import { describeSelection, nothingFailedLine, readSelectedStateOrExit, selectionOf, selectionOptions } from "./selectionOptions.ts"

const file = Args.file({ name: "FILE" }).pipe(Args.withDescription("The pipeline file."))
const json = Options.boolean("json").pipe(Options.withDescription("Print the plan as one JSON object."))
const quota = quotaOption(
  "The provider's quota for your key, of one kind of request (overrides provider.limits)",
  "provider.limits, else the published quotas"
)

const planLines = (plan: Plan, state: PipelineState, time: CampaignTime, selected: string): ReadonlyArray<string> => [
  `${plan.pipeline.name} (${plan.pipeline.file})`,
  ...(selected !== "" ? [selected] : []),
  "",
  ...formatTable(
    ["OUTPUT", "STATE", "SET", "IMAGE", "AUDIO", "COST", "FINGERPRINT"],
    plan.jobs.map((job) => [
      job.id,
      state.jobs.get(job.id)?.name ?? "new",
      job.set,
      job.inputs.image.path,
      `${job.inputs.audio?.path ?? `speech (${job.stages.speech?.voice ?? "?"}, ~`}${job.inputs.audio ? " (" : ""}${job.durationSeconds.toFixed(1)} s)`,
      usd(job.estimatedCostUsd),
      job.fingerprint.slice("sha256:".length, "sha256:".length + 12)
    ])
  ),
  "",
  `${plan.totals.jobs} job${plan.totals.jobs === 1 ? "" : "s"}, ${plan.totals.renders} render${plan.totals.renders === 1 ? "" : "s"}, estimated ${usd(plan.totals.estimatedCostUsd)}`,
  jobStateNames.map((name) => `${state.counts[name]} ${name}`).join(", "),
  describeCampaignTime(time),
  ...(plan.totals.unpricedStages.length > 0
    ? [`Not in the estimate: ${plan.totals.unpricedStages.join(" and ")} (the API publishes no price for them)`]
    : [])
]

export const planCommand = Command.make("plan", { file, json, quota, ...selectionOptions }, (args) =>
  Effect.gen(function* () {
    const { file, json, quota } = args
    const pipeline = yield* exitOnInvalidPipeline(loadPipeline(file))
    const plan = yield* exitOnInvalidPipeline(planPipeline(pipeline))
    const templates = yield* checkCaptionTemplates(pipeline)
    if (templates.diagnostics.length > 0)
      return yield* Effect.fail(invalidInputExit(new PipelineInvalid({ diagnostics: templates.diagnostics })))
    if (templates.skipped) yield* Console.error(`note: ${templates.skipped}`)
    const given = selectionOf(args)
    const { plan: shown, state, selected } = yield* readSelectedStateOrExit(pipeline, plan, given)
    const time = campaignTime(shown, state, resolveRunSettings(pipeline.spec, { quotas: quotaOverrides(quota) }).quotas)
    const summary = selected.everything
      ? undefined
      : { given, jobs: selected.jobs.length, matched: selected.matched, of: plan.jobs.length, nothingFailed: selected.nothingFailed }
    if (json) yield* Console.log(JSON.stringify(planToJson(shown, process.cwd(), state, time, summary), null, 2))
    else if (selected.nothingFailed) yield* Console.log(nothingFailedLine)
    else
      yield* Effect.forEach(planLines(shown, state, time, describeSelection(given, selected, plan.jobs.length)), (line) =>
        Console.log(line)
      )
  })
).pipe(
  Command.withDescription(
    "Show the jobs a pipeline expands to (or those --only, --set, --limit, --retry-failed select): state (new, changed, in-flight, up-to-date, failed), inputs, output, fingerprint and estimated cost."
  )
)
