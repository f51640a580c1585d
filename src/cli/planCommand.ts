import { Args, Command, Options } from "@effect/cli"
import { Console, Effect } from "effect"
import { loadPipeline } from "../pipeline/load.ts"
import { planPipeline, type Plan, type PlannedJob } from "../plan/plan.ts"
import type { JobSelection } from "../plan/selection.ts"
import { planJsonPieces } from "./planJsonText.ts"
import { campaignTime, describeCampaignTime, type CampaignTime } from "./campaignTime.ts"
import { quotaOption, quotaOverrides } from "./quotaOption.ts"
import { resolveRunSettings } from "../runtime/runSettings.ts"
import { jobStateNames, type PipelineState } from "../plan/planState.ts"
import { usd } from "./table.ts"
import { longTablePieces } from "./longTable.ts"
import { firstJobsShown, fullTableUpTo, moreJobsLine, setSummaryLines } from "./planSummary.ts"
import { writePieces } from "./writeStdout.ts"
import { PipelineInvalid } from "../pipeline/diagnostic.ts"
import { checkCaptionTemplates } from "../plan/checkCaptionTemplates.ts"
import { exitOnInvalidPipeline, invalidInputExit } from "./userErrors.ts"
import { describeSelection, nothingFailedLine, readSelectedStateOrExit, selectionOf, selectionOptions } from "./selectionOptions.ts"
import { stateOption, withStateStore } from "./stateOption.ts"

const file = Args.file({ name: "FILE" }).pipe(Args.withDescription("The pipeline file."))
const json = Options.boolean("json").pipe(
  Options.withDescription("Print the plan as one JSON object, every job in it (--all changes nothing).")
)
const all = Options.boolean("all").pipe(
  Options.withDescription(
    `List every job. Without it, a plan of more than ${fullTableUpTo} jobs shows a summary per set and its first ${firstJobsShown} jobs.`
  )
)
const quota = quotaOption(
  "The provider's quota for your key, of one kind of request (overrides provider.limits)",
  "provider.limits, else the published quotas"
)

const jobColumns = ["OUTPUT", "STATE", "SET", "IMAGE", "AUDIO", "COST", "FINGERPRINT"]

const jobRow = (job: PlannedJob, state: PipelineState): ReadonlyArray<string> => [
  job.id,
  state.jobs.get(job.id)?.name ?? "new",
  job.set,
  job.inputs.image.path,
  `${job.inputs.audio?.path ?? `speech (${job.stages.speech?.voice ?? "?"}, ~`}${job.inputs.audio ? " (" : ""}${job.durationSeconds.toFixed(1)} s)`,
  usd(job.estimatedCostUsd),
  job.fingerprint.slice("sha256:".length, "sha256:".length + 12)
]

const lines = (text: ReadonlyArray<string>): string => text.map((line) => `${line}\n`).join("")

interface PlanView {
  readonly plan: Plan
  readonly state: PipelineState
  readonly time: CampaignTime
  /** "3 of 12 jobs selected (…)", or empty. */
  readonly selected: string
  /** The file and selectors as given: the command that lists every job repeats them. */
  readonly file: string
  readonly given: JobSelection
  /** `--all`: every job's row, however many. */
  readonly all: boolean
}

/** The human plan, in pieces: every job's row, or past `fullTableUpTo` jobs a summary and the first few. */
function* planTextPieces({ plan, state, time, selected, file, given, all }: PlanView): Generator<string, void, undefined> {
  const whole = all || plan.jobs.length <= fullTableUpTo
  const shown = whole ? plan.jobs.length : firstJobsShown
  yield lines([`${plan.pipeline.name} (${plan.pipeline.file})`, ...(selected !== "" ? [selected] : []), ""])
  if (!whole) yield lines([...setSummaryLines(plan, state), ""])
  yield* longTablePieces(jobColumns, shown, (i) => jobRow(plan.jobs[i] as PlannedJob, state))
  if (!whole) yield lines([moreJobsLine(plan.jobs.length - shown, file, given)])
  yield lines([
    "",
    `${plan.totals.jobs} job${plan.totals.jobs === 1 ? "" : "s"}, ${plan.totals.renders} render${plan.totals.renders === 1 ? "" : "s"}, estimated ${usd(plan.totals.estimatedCostUsd)}`,
    jobStateNames.map((name) => `${state.counts[name]} ${name}`).join(", "),
    describeCampaignTime(time),
    ...(plan.totals.unpricedStages.length > 0
      ? [`Not in the estimate: ${plan.totals.unpricedStages.join(" and ")} (the API publishes no price for them)`]
      : [])
  ])
}

export const planCommand = Command.make("plan", { file, json, all, quota, ...selectionOptions, state: stateOption }, (args) =>
  Effect.gen(function* () {
    const { file, json, all, quota } = args
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
    // Written in pieces, each once the last is out: a million jobs' JSON is more than one string may hold.
    if (json) yield* writePieces(planJsonPieces(shown, process.cwd(), state, time, summary))
    else if (selected.nothingFailed) yield* Console.log(nothingFailedLine)
    else
      yield* writePieces(
        planTextPieces({ plan: shown, state, time, selected: describeSelection(given, selected, plan.jobs.length), file, given, all })
      )
  })
).pipe(
  withStateStore,
  Command.withDescription(
    `Show the jobs a pipeline expands to (or those --only, --set, --limit, --retry-failed select): state (new, changed, in-flight, up-to-date, failed), inputs, output, fingerprint and estimated cost. Past ${fullTableUpTo} jobs, a summary per set and the first ${firstJobsShown} (--all lists every one).`
  )
)
