/**
 * The human `clapper plan` of a large campaign: past `fullTableUpTo` jobs, a table per set
 * (jobs, renders, cost, states) and the first `firstJobsShown` jobs stand in for a table of
 * every job, which at 100,000 jobs is more than anyone reads (`--all` still prints it).
 */
import { type CostTally, makeCostTally, type Plan } from "../plan/plan.ts"
import { jobStateNames, type PipelineState } from "../plan/planState.ts"
import type { JobStateName } from "../plan/resume.ts"
import { type JobSelection, selectionArgs } from "../plan/selection.ts"
import { formatTable, usd } from "./table.ts"
import { shellWord } from "../app/shellWord.ts"

/** Plans of up to this many jobs are shown whole. */
export const fullTableUpTo = 50
/** The jobs a summary shows, in plan order. */
export const firstJobsShown = 20

/** `1,234`: counts in summaries are read at a glance. */
const count = (n: number): string => n.toLocaleString("en-US")

interface SetFigures {
  jobs: number
  /** Distinct outputs (fingerprints), as the plan's totals count renders. */
  readonly renders: Set<string>
  /** As the plan's estimate pays them. */
  readonly cost: CostTally
  readonly states: Record<JobStateName, number>
}

const sum = (values: Iterable<number>) => {
  let total = 0
  for (const value of values) total += value
  return total
}

/**
 * One row per set, in the order the plan first meets it: SET, JOBS, RENDERS, COST and the count
 * of each state. A render two sets share counts in both rows, and a line says so: the totals count it once.
 */
export const setSummaryLines = (plan: Plan, state: Pick<PipelineState, "jobs">): ReadonlyArray<string> => {
  const sets = new Map<string, SetFigures>()
  for (const job of plan.jobs) {
    let figures = sets.get(job.set)
    if (figures === undefined) {
      figures = {
        jobs: 0,
        renders: new Set(),
        cost: makeCostTally(),
        states: { new: 0, changed: 0, "in-flight": 0, "up-to-date": 0, failed: 0 }
      }
      sets.set(job.set, figures)
    }
    figures.jobs++
    figures.renders.add(job.fingerprint)
    figures.cost.add(job)
    figures.states[state.jobs.get(job.id)?.name ?? "new"]++
  }
  const table = formatTable(
    ["SET", "JOBS", "RENDERS", "COST", ...jobStateNames.map((name) => name.toUpperCase())],
    [...sets].map(([set, figures]) => [
      set,
      count(figures.jobs),
      count(figures.renders.size),
      usd(figures.cost.usd()),
      ...jobStateNames.map((name) => count(figures.states[name]))
    ])
  )
  const shared = sum([...sets.values()].map((figures) => figures.renders.size)) > plan.totals.renders
  return shared ? [...table, "(a render two sets share is in both rows; the totals below count it once)"] : table
}

/** The command that lists every job the summary left out: the same file and selectors, with `--all`. */
const listAllCommand = (file: string, selection: JobSelection): string =>
  ["clapper", "plan", file, ...selectionArgs(selection), "--all"].map(shellWord).join(" ")

/** `… and 99,980 more jobs (clapper plan FILE --all lists every one; --json for all fields)`. */
export const moreJobsLine = (more: number, file: string, selection: JobSelection): string =>
  `… and ${count(more)} more job${more === 1 ? "" : "s"} (${listAllCommand(file, selection)} lists every one; --json for all fields)`
