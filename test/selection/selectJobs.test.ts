/** The selection function: which jobs `--only`, `--set`, `--limit` and `--retry-failed` choose. */
import { Either } from "effect"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { selectJobs, type JobSelection, type SelectionInvalid } from "../../src/plan/selection.ts"

interface TestJob {
  readonly id: string
  readonly set: string
}

const folders = ["a", "b", "c/d"] as const
const setNames = ["hero", "intro", "outro"] as const

/** Jobs with distinct ids `<folder>/<name>.mp4`, in a set each. */
const jobsArb: fc.Arbitrary<ReadonlyArray<TestJob>> = fc
  .uniqueArray(fc.tuple(fc.constantFrom(...folders), fc.stringMatching(/^[a-e]{1,3}$/), fc.constantFrom(...setNames)), {
    selector: ([folder, name]) => `${folder}/${name}`,
    maxLength: 14
  })
  .map((rows) => rows.map(([folder, name, set]) => ({ id: `${folder}/${name}.mp4`, set })))

/** A `--only` value: an id of a job, a glob over a folder, or an id no job has. */
const onlyArb = (jobs: ReadonlyArray<TestJob>) =>
  fc.oneof(
    ...(jobs.length > 0 ? [fc.constantFrom(...jobs.map((j) => j.id))] : []),
    fc.constantFrom(...folders.map((f) => `${f}/*`)),
    fc.constantFrom("zz/none.mp4")
  )

const caseArb = jobsArb.chain((jobs) =>
  fc.record({
    jobs: fc.constant(jobs),
    only: fc.array(onlyArb(jobs), { maxLength: 3 }),
    sets: fc.uniqueArray(fc.constantFrom(...setNames, "nosuch"), { maxLength: 2 }),
    limit: fc.option(fc.integer({ min: -1, max: 16 }), { nil: undefined }),
    retryFailed: fc.boolean(),
    failed: fc.subarray(jobs.map((j) => j.id))
  })
)

/** The meaning of one `--only` value, written out without a glob library: `dir/*` is the folder's own files. */
const onlyMatches = (value: string, id: string) =>
  value.endsWith("/*") ? id.slice(0, id.lastIndexOf("/")) === value.slice(0, -2) : id === value

describe("selectJobs (property)", () => {
  it("keeps the plan's order, a subset of it; OR within a kind, AND between kinds; --limit N gives min(N, matches); a selector matching nothing is named", () => {
    fc.assert(
      fc.property(caseArb, ({ jobs, only, sets, limit, retryFailed, failed }) => {
        const selection: JobSelection = {
          ...(only.length > 0 ? { only } : {}),
          ...(sets.length > 0 ? { sets } : {}),
          ...(limit !== undefined ? { limit } : {}),
          ...(retryFailed ? { retryFailed } : {})
        }
        const failedIds = new Set(failed)
        const result = selectJobs(jobs, selection, failedIds)

        // Every selector that cannot be used, and only those, is named.
        const deadOnly = only.filter((v) => !jobs.some((j) => onlyMatches(v, j.id))).map((v) => `--only ${v}`)
        const deadSets = sets.filter((s) => !jobs.some((j) => j.set === s)).map((s) => `--set ${s}`)
        const badLimit = limit !== undefined && limit < 1 ? [`--limit ${limit}`] : []
        const expectedProblems = [...deadOnly, ...deadSets, ...badLimit]
        const byOnlyAndSet = jobs.filter(
          (j) => (only.length === 0 || only.some((v) => onlyMatches(v, j.id))) && (sets.length === 0 || sets.some((s) => s === j.set))
        )
        if (expectedProblems.length > 0) {
          expect(Either.isLeft(result)).toBe(true)
          const error = (result as Either.Left<SelectionInvalid, unknown>).left
          expect(error.problems.map((p) => p.selector).sort()).toEqual([...new Set(expectedProblems)].sort())
          return
        }
        const anySelector = only.length > 0 || sets.length > 0 || limit !== undefined || retryFailed
        if (anySelector && byOnlyAndSet.length === 0 && (only.length > 0 || sets.length > 0)) {
          expect(Either.isLeft(result)).toBe(true)
          return
        }
        expect(Either.isRight(result)).toBe(true)
        const selected = (result as Either.Right<unknown, { jobs: ReadonlyArray<TestJob>; matched: number; nothingFailed: boolean }>).right
        const matching = byOnlyAndSet.filter((j) => !retryFailed || failedIds.has(j.id))
        // A subset of the plan, in its order.
        const positions = selected.jobs.map((j) => jobs.indexOf(j))
        expect(positions.every((p) => p >= 0)).toBe(true)
        expect([...positions].sort((x, y) => x - y)).toEqual(positions)
        // Exactly the first min(N, matches) of the jobs every kind matches.
        expect(selected.matched).toBe(matching.length)
        expect(selected.jobs).toEqual(matching.slice(0, limit ?? matching.length))
        expect(selected.jobs.length).toBe(Math.min(limit ?? Infinity, matching.length))
        expect(selected.nothingFailed).toBe(retryFailed && matching.length === 0)
      }),
      { numRuns: 500 }
    )
  })
})

describe("selectJobs (cases)", () => {
  const jobs: ReadonlyArray<TestJob> = [
    { id: "renders/hero/alice.mp4", set: "hero" },
    { id: "renders/hero/bob.mp4", set: "hero" },
    { id: "renders/outreach/p-001 [v1].mp4", set: "outreach" },
    { id: "renders/outreach/p-002.mp4", set: "outreach" }
  ]
  const problems = (selection: JobSelection) =>
    Either.match(selectJobs(jobs, selection, new Set()), { onLeft: (e) => e.lines, onRight: () => [] })

  it("no selector: every job, and says so", () => {
    const result = Either.getOrThrow(selectJobs(jobs, {}, new Set()))
    expect(result.everything).toBe(true)
    expect(result.jobs).toBe(jobs)
  })

  it("an id is taken as written before it is read as a glob (brackets in a file name), ./ in front is the same id", () => {
    const result = Either.getOrThrow(selectJobs(jobs, { only: ["renders/outreach/p-001 [v1].mp4", "./renders/hero/bob.mp4"] }, new Set()))
    expect(result.jobs.map((j) => j.id)).toEqual(["renders/hero/bob.mp4", "renders/outreach/p-001 [v1].mp4"])
  })

  it("a mistyped id suggests the close ids; a glob over a mistyped folder suggests the glob over the right one", () => {
    expect(problems({ only: ["renders/hero/alise.mp4"] })).toEqual([
      '--only renders/hero/alise.mp4: no job has this id (job ids are output paths relative to the project root) (did you mean "renders/hero/alice.mp4"?)'
    ])
    expect(problems({ only: ["renders/outreech/*"] })).toEqual([
      '--only renders/outreech/*: the glob matches no job id (job ids are output paths relative to the project root) (did you mean "renders/outreach/*"?)'
    ])
    expect(problems({ only: ["elsewhere/x.mp4"] })[0]).toContain("e.g. renders/hero/alice.mp4")
  })

  it("an unknown set names the sets and suggests the close one; several problems are all reported", () => {
    expect(problems({ sets: ["heor"], limit: 0 })).toEqual([
      '--set heor: no set of that name has jobs (the sets: hero, outreach) (did you mean "hero"?)',
      "--limit 0: the number of jobs must be a whole number, 1 or more (leave --limit out to take every selected job)"
    ])
  })

  it("kinds that each match but not together: said, naming both", () => {
    expect(problems({ only: ["renders/hero/*"], sets: ["outreach"] })).toEqual([
      "--only renders/hero/* --set outreach: each matches jobs, but no job matches --only and --set together (the kinds combine as AND)"
    ])
  })

  it("--retry-failed with nothing failed is not an error: nothing to do", () => {
    const result = Either.getOrThrow(selectJobs(jobs, { retryFailed: true }, new Set()))
    expect(result.jobs).toEqual([])
    expect(result.nothingFailed).toBe(true)
  })

  it("--limit takes the first N in plan order; ** crosses folders", () => {
    const result = Either.getOrThrow(selectJobs(jobs, { only: ["renders/**/p-*"], limit: 1 }, new Set()))
    expect(result.jobs.map((j) => j.id)).toEqual(["renders/outreach/p-001 [v1].mp4"])
    expect(result.matched).toBe(2)
  })
})
