/**
 * `clapper plan --json` as text in pieces: byte for byte `JSON.stringify(planToJson(…), null, 2)`
 * and a newline, never held whole (a million jobs are some 800 MB of JSON, more than a JavaScript
 * string may hold): the head (pipeline, selection), the jobs a thousand to a piece, the totals.
 */
import { isAbsolute, relative, sep } from "node:path"
import type { JobState } from "../plan/resume.ts"
import type { PipelineState } from "../plan/planState.ts"
import type { Plan, PlannedInput, PlannedJob } from "../plan/plan.ts"
import type { CampaignTime } from "./campaignTime.ts"
import { planTotalsJson, type SelectionSummary, shownOutput } from "./planJson.ts"

/** About 700 KB of text: few writes, and little held at once. */
export const jobsPerPiece = 1_000

/** `JSON.stringify(value, null, 2)` placed where its lines are already indented by `indent`. */
const nested = (value: unknown, indent: string): string => JSON.stringify(value, null, 2).replaceAll("\n", `\n${indent}`)

/** A number as JSON writes it (its shortest round-trip form; `null` when not finite). */
const number = (n: number): string => (Number.isFinite(n) ? String(n) : "null")

const string = (s: string): string => JSON.stringify(s)

const stateText = (state: JobState | undefined): string =>
  state === undefined
    ? ""
    : `,\n      "state": ${string(state.name)}${state.detail !== undefined ? `,\n      "stateDetail": ${string(state.detail)}` : ""}${
        state.videoId !== undefined ? `,\n      "videoId": ${string(state.videoId)}` : ""
      }`

/**
 * A job's `inputs` as text. The planner makes one object per file (a million jobs name a few
 * hundred files), so each file's text is made once; the object's keys are the planner's, image
 * then audio.
 */
const inputsTexts = () => {
  const known = new Map<PlannedInput, string>()
  const fileText = (input: PlannedInput): string => {
    let text = known.get(input)
    if (text === undefined) {
      text = nested(input, "        ")
      known.set(input, text)
    }
    return text
  }
  return (inputs: PlannedJob["inputs"]): string =>
    `{\n        "image": ${fileText(inputs.image)}${inputs.audio !== undefined ? `,\n        "audio": ${fileText(inputs.audio)}` : ""}\n      }`
}

/**
 * `shownOutput`, with the folder's part worked out once per folder: `path.relative` on each of a
 * million outputs in a few folders is a third of the time of the whole text.
 */
const outputsShown = (cwd: string) => {
  const folders = new Map<string, string>()
  return (job: PlannedJob): string => {
    const cut = job.output.lastIndexOf(sep)
    const name = job.output.slice(cut + 1)
    const folder = job.output.slice(0, cut)
    // Anything unusual (a name of "." or "..", a drive's bare "C:"): the path as a whole.
    if (cut <= 0 || name === "" || name === "." || name === ".." || !isAbsolute(folder)) return shownOutput(job, cwd)
    let shown = folders.get(folder)
    if (shown === undefined) {
      shown = relative(cwd, folder).split(sep).join("/")
      folders.set(folder, shown)
    }
    return shown === "" ? name : `${shown}/${name}`
  }
}

/** One job of `jobs`, indented as the array's element: written out, field by field, as `planToJson` orders them. */
const jobText = (job: PlannedJob, output: string, inputs: string, state: JobState | undefined): string =>
  `{\n      "id": ${string(job.id)},\n      "set": ${string(job.set)},\n      "index": ${number(job.index)},\n      "output": ${string(output)},\n      "model": ${string(job.model)},\n      "fingerprint": ${string(job.fingerprint)},\n      "inputs": ${inputs},\n      "estimatedCostUsd": ${number(job.estimatedCostUsd)}${stateText(state)}\n    }`

/** The plan's JSON text, piece by piece (pull them one at a time and write each before the next). */
export function* planJsonPieces(
  plan: Plan,
  cwd: string,
  state?: PipelineState,
  time?: CampaignTime,
  selection?: SelectionSummary
): Generator<string, void, undefined> {
  yield `{\n  "pipeline": ${nested(plan.pipeline, "  ")},\n${selection ? `  "selection": ${nested(selection, "  ")},\n` : ""}  "jobs": [`
  const inputs = inputsTexts()
  const output = outputsShown(cwd)
  const jobs = plan.jobs
  for (let start = 0; start < jobs.length; start += jobsPerPiece) {
    const end = Math.min(start + jobsPerPiece, jobs.length)
    let piece = start === 0 ? "\n    " : ",\n    "
    for (let i = start; i < end; i++) {
      const job = jobs[i] as PlannedJob
      if (i > start) piece += ",\n    "
      piece += jobText(job, output(job), inputs(job.inputs), state?.jobs.get(job.id))
    }
    yield piece
  }
  yield `${jobs.length > 0 ? "\n  " : ""}],\n  "totals": ${nested(planTotalsJson(plan, state, time), "  ")}\n}\n`
}
