import { Args, Command, Options } from "@effect/cli"
import { Console, Effect } from "effect"
import { loadPipeline } from "../pipeline/load.ts"
import { planPipeline, type Plan } from "../plan/plan.ts"
import type { JobState } from "../plan/resume.ts"
import { jobStateNames, type PipelineState } from "../plan/planState.ts"
import { describeHolder } from "../state/runnerLock.ts"
import { usd } from "./table.ts"
import { exitOnInvalidPipeline } from "./userErrors.ts"
import type { SelectionSummary } from "./planJson.ts"
import { describeSelection, nothingFailedLine, readSelectedStateOrExit, selectionOf, selectionOptions } from "./selectionOptions.ts"
import { stateOption, withStateStore } from "./stateOption.ts"

const file = Args.file({ name: "FILE" }).pipe(Args.withDescription("The pipeline file."))
const json = Options.boolean("json").pipe(Options.withDescription("Print the status as one JSON object."))

const runnerJson = (state: PipelineState) => {
  const runner = state.runner
  switch (runner._tag) {
    case "Absent":
      return null
    case "Unreadable":
      return { unreadable: runner.problem }
    case "Held":
      return { ...runner.holder, status: runner.status }
    case "Workers":
      return { workers: runner.count }
  }
}

/** `selection`, when given, says which of the pipeline's jobs `plan` holds (`--only`, `--set`, …). */
export const statusToJson = (plan: Plan, state: PipelineState, selection?: SelectionSummary) => {
  const jobs = plan.jobs.map((job): JobState & { readonly id: string } => ({ id: job.id, ...(state.jobs.get(job.id) ?? { name: "new" }) }))
  return {
    pipeline: plan.pipeline,
    ...(selection ? { selection } : {}),
    runner: runnerJson(state),
    totals: { jobs: plan.jobs.length, states: state.counts, spentUsd: state.spentUsd, possibleDuplicates: state.possibleDuplicates },
    inFlight: jobs
      .filter((j) => j.name === "in-flight")
      .map(({ id, detail, videoId }) => ({ job: id, ...(videoId ? { videoId } : {}), detail })),
    failed: jobs
      .filter((j) => j.name === "failed")
      .map(({ id, detail, videoId }) => ({ job: id, ...(videoId ? { videoId } : {}), reason: detail })),
    jobs: jobs.map(({ id, name, detail, videoId }) => ({
      id,
      state: name,
      ...(detail ? { detail } : {}),
      ...(videoId ? { videoId } : {})
    })),
    warnings: state.warnings
  }
}

const statusLines = (plan: Plan, state: PipelineState, selected: string): ReadonlyArray<string> => {
  const status = statusToJson(plan, state)
  const runner = state.runner
  return [
    `${plan.pipeline.name} (${plan.pipeline.file}): ${plan.jobs.length} job${plan.jobs.length === 1 ? "" : "s"}: ${jobStateNames.map((n) => `${state.counts[n]} ${n}`).join(", ")}`,
    ...(selected !== "" ? [selected] : []),
    runner._tag === "Held"
      ? `Running now: ${describeHolder(runner.holder)}${runner.status === "dead" ? " (that process is gone: the next run takes over)" : ""}`
      : runner._tag === "Unreadable"
        ? `Runner lock unreadable (${runner.problem}): clapper unlock ${plan.pipeline.file}`
        : runner._tag === "Workers"
          ? `Worked now by ${runner.count} worker${runner.count === 1 ? "" : "s"} (clapper worker)`
          : "Not running.",
    `Spent so far: ~${usd(state.spentUsd)} (estimated)${state.possibleDuplicates > 0 ? `, including ${state.possibleDuplicates} possible duplicate render(s)` : ""}`,
    ...(status.inFlight.length > 0 ? ["In flight:", ...status.inFlight.map((j) => `  ${j.job}: ${j.detail}`)] : []),
    ...(status.failed.length > 0 ? ["Failed (the next run tries again):", ...status.failed.map((j) => `  ${j.job}: ${j.reason}`)] : []),
    ...state.warnings.map((w) => `warning: ${w}`)
  ]
}

export const statusCommand = Command.make("status", { file, json, ...selectionOptions, state: stateOption }, (args) =>
  Effect.gen(function* () {
    const { file, json } = args
    const pipeline = yield* exitOnInvalidPipeline(loadPipeline(file))
    const plan = yield* exitOnInvalidPipeline(planPipeline(pipeline))
    const given = selectionOf(args)
    const { plan: shown, state, selected } = yield* readSelectedStateOrExit(pipeline, plan, given)
    const summary = selected.everything
      ? undefined
      : { given, jobs: selected.jobs.length, matched: selected.matched, of: plan.jobs.length, nothingFailed: selected.nothingFailed }
    if (json) yield* Console.log(JSON.stringify(statusToJson(shown, state, summary), null, 2))
    else if (selected.nothingFailed) yield* Console.log(nothingFailedLine)
    else yield* Effect.forEach(statusLines(shown, state, describeSelection(given, selected, plan.jobs.length)), (line) => Console.log(line))
  })
).pipe(
  withStateStore,
  Command.withDescription(
    "What the journal and the lock file say now: each job's state, renders in flight with their ids, failures, spend so far."
  )
)
