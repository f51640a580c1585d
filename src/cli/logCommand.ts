/**
 * `clapper log FILE [--json]`: the pipeline's past runs, oldest first (the newest is the last
 * line, nearest the prompt): when, how long, who and where, jobs done and failed, spend, how it
 * ended, and the command line as it was typed.
 */
import { Args, Command, Options } from "@effect/cli"
import { Console, Effect } from "effect"
import { pipelineLog, type PipelineLog } from "../app/pipelineLog.ts"
import type { RunRecord } from "../state/runHistory.ts"
import { CliExit, ExitCodes } from "./exitCode.ts"
import { formatDuration, parseInstant } from "./progress/timeText.ts"
import { formatTable, usd } from "./table.ts"
import { invalidInputExit } from "./userErrors.ts"
import { shellWord } from "../app/shellWord.ts"
import { stateOption, withStateStore } from "./stateOption.ts"

const file = Args.text({ name: "FILE" }).pipe(Args.withDescription("The pipeline file."))
const json = Options.boolean("json").pipe(Options.withDescription("Print the runs as one JSON object."))

const pad2 = (n: number) => String(n).padStart(2, "0")

/** Local date and time to the minute: `2026-04-30 14:05`. */
const localTime = (iso: string) => {
  const d = new Date(iso)
  if (Number.isNaN(d.getTime())) return iso
  return `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())} ${pad2(d.getHours())}:${pad2(d.getMinutes())}`
}

/** An argument as a shell would need it typed. */

const took = (run: RunRecord) => {
  const start = parseInstant(run.startedAt)
  const end = run.finishedAt === undefined ? undefined : parseInstant(run.finishedAt)
  return start === undefined || end === undefined ? "?" : formatDuration(end - start)
}

const ending = (run: RunRecord) => (run.outcome === "killed" ? "killed (no end recorded)" : `${run.outcome}, exit ${run.exitCode ?? "?"}`)

const jobs = (run: RunRecord) => `${run.completed} done, ${run.failed} failed`

export const logLines = (log: PipelineLog): ReadonlyArray<string> => {
  const { name } = log.pipeline
  if (log.runs.length === 0) return [`${name} (${log.pipeline.file}) has not been run yet: no run is recorded.`]
  return [
    `${name} (${log.pipeline.file}): ${log.runs.length} run${log.runs.length === 1 ? "" : "s"}`,
    "",
    ...formatTable(
      ["RUN", "STARTED", "TOOK", "BY", "JOBS", "SPENT", "END", "COMMAND"],
      log.runs.map((run) => [
        String(run.n),
        localTime(run.startedAt),
        took(run),
        `${run.user}@${run.host}`,
        jobs(run),
        run.spentUsd === undefined ? "?" : `~${usd(run.spentUsd)}`,
        ending(run),
        run.command.map(shellWord).join(" ")
      ])
    ),
    // Why a run was refused or stopped, in its own words.
    ...log.runs.flatMap((run) => (run.message !== undefined ? [`run ${run.n}: ${run.message}`] : []))
  ]
}

export const logCommand = Command.make("log", { file, json, state: stateOption }, ({ file, json }) =>
  Effect.gen(function* () {
    const log = yield* pipelineLog(file).pipe(
      Effect.catchTags({
        PipelineInvalid: (e) => Effect.fail(invalidInputExit(e)),
        RunHistoryUnreadable: (e) => Effect.fail(new CliExit({ code: ExitCodes.invalidInput, lines: [`clapper: ${e.message}`] })),
        StateIoError: (e) => Effect.fail(new CliExit({ code: ExitCodes.invalidInput, lines: [`clapper: ${e.message}`] }))
      })
    )
    for (const warning of log.warnings) yield* Console.error(`warning: ${warning}`)
    if (json) yield* Console.log(JSON.stringify(log, null, 2))
    else yield* Effect.forEach(logLines(log), (line) => Console.log(line))
  })
).pipe(
  withStateStore,
  Command.withDescription(
    "The pipeline's past runs, oldest first: start, duration, who and where, jobs done and failed, spend, how each ended (exit code) and its command line."
  )
)
