/**
 * Which of a plan's jobs a command works on: `--only ID|GLOB`, `--set NAME`, `--limit N`,
 * `--retry-failed` (`clapper run`, `plan`, `status`, `results`, `report`, and `select` in the
 * library). Pure: the caller says which jobs failed last time; nothing here reads the state.
 *
 * The kinds combine as AND, the values of one kind as OR: `--set hero --set intro --only
 * 'renders/**\/alice*'` is "in hero or intro, and matching the glob". `--retry-failed` keeps the
 * jobs whose last attempt failed; `--limit N` comes last and keeps the first N in plan order (a
 * proof round before the whole campaign). The order is always the plan's.
 *
 * A selector that matches no job is a mistake to say, not a quiet empty run: each is named, with
 * the job ids or set names closest to it. `--retry-failed` with no failed job is not a mistake:
 * the outcome says so (`nothingFailed`) and there is nothing to do.
 */
import { Either, Schema } from "effect"
import picomatch from "picomatch"
import { didYouMean, editDistance, typoThreshold } from "../pipeline/didYouMean.ts"
import type { Plan, PlannedJob } from "./plan.ts"

/** The selectors, as the command line's flags and the library's `select` option give them. */
export const JobSelection = Schema.Struct({
  /** Job ids (output paths relative to the project root) or globs over them; a job matching any is kept. */
  only: Schema.optionalWith(Schema.Array(Schema.String), { exact: true }),
  /** Set names; a job in any is kept. */
  sets: Schema.optionalWith(Schema.Array(Schema.String), { exact: true }),
  /** Keep the first N selected jobs, in plan order (N ≥ 1). */
  limit: Schema.optionalWith(Schema.Number, { exact: true }),
  /** Keep only jobs whose last attempt failed. */
  retryFailed: Schema.optionalWith(Schema.Boolean, { exact: true })
}).annotations({ identifier: "JobSelection" })
export type JobSelection = typeof JobSelection.Type

/** One selector that cannot be used, named as on the command line (`--only renders/x.mp4`). */
export const SelectionProblem = Schema.Struct({
  selector: Schema.String,
  message: Schema.String,
  /** Job ids, set names or globs close to what was written. */
  suggestions: Schema.Array(Schema.String)
})
export type SelectionProblem = typeof SelectionProblem.Type

const problemLine = (p: SelectionProblem) =>
  `${p.selector}: ${p.message}${p.suggestions.length > 0 ? ` (did you mean ${p.suggestions.map((s) => `"${s}"`).join(" or ")}?)` : ""}`

/** The selectors cannot be used as given: every problem, each naming its selector. Bad input (exit 2). */
export class SelectionInvalid extends Schema.TaggedError<SelectionInvalid>()("SelectionInvalid", {
  problems: Schema.Array(SelectionProblem)
}) {
  /** One line per problem. */
  get lines(): ReadonlyArray<string> {
    return this.problems.map(problemLine)
  }
  override get message() {
    return this.lines.join("\n")
  }
}

/** What a selection chose. */
export interface Selected<J> {
  /** The jobs selected, in plan order. */
  readonly jobs: ReadonlyArray<J>
  /** How many the selectors matched before `limit`. */
  readonly matched: number
  /** `retryFailed` was asked and no job the other selectors kept failed last time: nothing to do. */
  readonly nothingFailed: boolean
  /** No selector was given: every job. */
  readonly everything: boolean
}

/** True when the selection has no selector at all. */
export const selectsEverything = (selection: JobSelection | undefined): boolean =>
  selection === undefined ||
  ((selection.only ?? []).length === 0 &&
    (selection.sets ?? []).length === 0 &&
    selection.limit === undefined &&
    selection.retryFailed !== true)

/** `./renders/a.mp4` is the job `renders/a.mp4`. */
const normalise = (value: string) => value.replace(/^(\.\/)+/, "")

/**
 * Up to three candidates close enough to `input` to be a typo of it, closest first: those within
 * one edit of the closest (a long path is within a few edits of many others).
 */
const closest = (input: string, candidates: Iterable<string>): ReadonlyArray<string> => {
  const limit = typoThreshold(input)
  const folded = input.toLowerCase()
  const near = [...new Set(candidates)]
    .filter((c) => Math.abs(c.length - input.length) <= limit)
    .map((c) => ({ c, d: editDistance(folded, c.toLowerCase()) }))
    .filter(({ d }) => d <= limit)
    .sort((a, b) => a.d - b.d || (a.c < b.c ? -1 : a.c > b.c ? 1 : 0))
  const best = near[0]?.d ?? 0
  return near
    .filter(({ d }) => d <= best + 1)
    .slice(0, 3)
    .map(({ c }) => c)
}

/** Every folder a job id is in, at every depth: `renders/a/b.mp4` → `renders`, `renders/a`. */
const foldersOf = (ids: ReadonlyArray<string>): ReadonlySet<string> => {
  const folders = new Set<string>()
  for (const id of ids) {
    const parts = id.split("/")
    for (let n = 1; n < parts.length; n++) folders.add(parts.slice(0, n).join("/"))
  }
  return folders
}

interface OnlyMatcher {
  readonly value: string
  readonly isGlob: boolean
  readonly matches: (id: string) => boolean
}

const onlyMatcher = (raw: string): OnlyMatcher => {
  const value = normalise(raw)
  const isGlob = picomatch.scan(value).isGlob
  // An id is taken as written first: output names may hold `[`, `(` or `!`, which a glob reads otherwise.
  const glob = isGlob ? picomatch(value, { dot: true }) : undefined
  return { value, isGlob, matches: (id) => id === value || (glob !== undefined && glob(id)) }
}

/** A glob that matches nothing: the same glob over the closest folder, when that one matches. */
const globSuggestion = (matcher: OnlyMatcher, ids: ReadonlyArray<string>): ReadonlyArray<string> => {
  const { base } = picomatch.scan(matcher.value)
  if (base === "") return []
  const folder = didYouMean(base, foldersOf(ids))
  if (folder === undefined) return []
  const fixed = folder + matcher.value.slice(base.length)
  const glob = picomatch(fixed, { dot: true })
  return ids.some((id) => glob(id)) ? [fixed] : []
}

const limitProblem = (limit: number): SelectionProblem | undefined =>
  Number.isInteger(limit) && limit >= 1
    ? undefined
    : {
        selector: `--limit ${limit}`,
        message: "the number of jobs must be a whole number, 1 or more (leave --limit out to take every selected job)",
        suggestions: []
      }

/**
 * The jobs `selection` chooses among `jobs` (a plan's, in plan order); `failed` holds the ids of
 * jobs whose last attempt failed (for `retryFailed`). Fails with every selector that cannot be
 * used: a `limit` below 1, an `only` or a `sets` value that matches no job, or kinds that each
 * match jobs but no job together.
 */
export const selectJobs = <J extends { readonly id: string; readonly set: string }>(
  jobs: ReadonlyArray<J>,
  selection: JobSelection | undefined,
  failed: ReadonlySet<string>
): Either.Either<Selected<J>, SelectionInvalid> => {
  if (selection === undefined || selectsEverything(selection))
    return Either.right({ jobs, matched: jobs.length, nothingFailed: false, everything: true })
  const problems: Array<SelectionProblem> = []
  const ids = jobs.map((j) => j.id)

  // A value given twice is one selector (and one problem).
  const onlyValues = [...new Set(selection.only ?? [])]
  const matchers = onlyValues.map(onlyMatcher)
  for (const [n, matcher] of matchers.entries()) {
    const selector = `--only ${onlyValues[n]}`
    if (matcher.value === "") {
      problems.push({ selector, message: "an empty job id or glob matches no job", suggestions: [] })
    } else if (!jobs.some((j) => matcher.matches(j.id))) {
      const suggestions = matcher.isGlob ? globSuggestion(matcher, ids) : closest(matcher.value, ids)
      // Without a suggestion, an example says what an id looks like.
      const example = suggestions.length > 0 || ids[0] === undefined ? "" : `, e.g. ${ids[0]}`
      problems.push({
        selector,
        message: `${matcher.isGlob ? "the glob matches no job id" : "no job has this id"} (job ids are output paths relative to the project root${example})`,
        suggestions
      })
    }
  }

  const setNames = [...new Set(jobs.map((j) => j.set))]
  const sets = new Set(selection.sets ?? [])
  for (const set of sets) {
    if (!setNames.includes(set)) {
      problems.push({
        selector: `--set ${set}`,
        message: `no set of that name has jobs (the sets: ${setNames.join(", ") || "none"})`,
        suggestions: closest(set, setNames)
      })
    }
  }

  const limitIssue = selection.limit === undefined ? undefined : limitProblem(selection.limit)
  if (limitIssue) problems.push(limitIssue)
  if (problems.length > 0) return Either.left(new SelectionInvalid({ problems }))

  const chosen = jobs.filter(
    (job) => (matchers.length === 0 || matchers.some((m) => m.matches(job.id))) && (sets.size === 0 || sets.has(job.set))
  )
  if (chosen.length === 0 && (matchers.length > 0 || sets.size > 0)) {
    // Each kind matches jobs on its own (checked above); together they match none.
    const selectors = [...onlyValues.map((v) => `--only ${v}`), ...[...sets].map((s) => `--set ${s}`)]
    return Either.left(
      new SelectionInvalid({
        problems: [
          {
            selector: selectors.join(" "),
            message: "each matches jobs, but no job matches --only and --set together (the kinds combine as AND)",
            suggestions: []
          }
        ]
      })
    )
  }
  const retried = selection.retryFailed === true ? chosen.filter((job) => failed.has(job.id)) : chosen
  const limited = selection.limit === undefined ? retried : retried.slice(0, selection.limit)
  return Either.right({
    jobs: limited,
    matched: retried.length,
    nothingFailed: selection.retryFailed === true && retried.length === 0,
    everything: false
  })
}

const cents = (usd: number) => Math.round(usd * 100) / 100

/**
 * The plan of the selected jobs only: their totals counted again (each video and captioning once,
 * however many selected outputs share it). The pipeline's description is unchanged.
 */
export const selectedPlan = (plan: Plan, jobs: ReadonlyArray<PlannedJob>): Plan => {
  if (jobs.length === plan.jobs.length) return plan
  const videos = new Map(jobs.map((j) => [j.stages.video, j.costUsd.video]))
  const captions = new Map(
    jobs.flatMap((j) => (j.stages.captions ? [[j.stages.captions.fingerprint, j.costUsd.captions ?? 0] as const] : []))
  )
  const sum = (m: ReadonlyMap<string, number>) => [...m.values()].reduce((a, b) => a + b, 0)
  return {
    pipeline: plan.pipeline,
    jobs,
    totals: {
      jobs: jobs.length,
      renders: new Set(jobs.map((j) => j.fingerprint)).size,
      estimatedCostUsd: cents(sum(videos) + sum(captions)),
      unpricedStages: [...new Set(jobs.flatMap((j) => j.unpricedStages))]
    }
  }
}

/** The selection of a plan: its jobs and the plan restricted to them. */
export interface SelectedPlan {
  readonly plan: Plan
  readonly selected: Selected<PlannedJob>
}

/** `selectJobs` over a plan's jobs, with the plan restricted to them (`selectedPlan`). */
export const selectPlan = (
  plan: Plan,
  selection: JobSelection | undefined,
  failed: ReadonlySet<string>
): Either.Either<SelectedPlan, SelectionInvalid> =>
  Either.map(selectJobs(plan.jobs, selection, failed), (selected) => ({ plan: selectedPlan(plan, selected.jobs), selected }))

/** The flags again, as a user would type them: `--set hero --limit 3`. */
export const selectionFlags = (selection: JobSelection): string => selectionArgs(selection).join(" ")

/** The selectors as command-line arguments, flag and value apart (for a command a user may copy). */
export const selectionArgs = (selection: JobSelection): ReadonlyArray<string> => [
  ...(selection.only ?? []).flatMap((v) => ["--only", v]),
  ...(selection.sets ?? []).flatMap((v) => ["--set", v]),
  ...(selection.limit !== undefined ? ["--limit", String(selection.limit)] : []),
  ...(selection.retryFailed ? ["--retry-failed"] : [])
]
