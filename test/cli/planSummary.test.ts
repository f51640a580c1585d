import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { setSummaryLines } from "../../src/cli/planSummary.ts"
import { formatTable, usd } from "../../src/cli/table.ts"
import { loadPipelinePromise, planPipelinePromise } from "../../src/index.ts"
import { jobStateNames } from "../../src/plan/planState.ts"
import type { JobState } from "../../src/plan/resume.ts"
import { runCli } from "../support/runCli.ts"
import { tempProject } from "../support/tempProject.ts"

const images = ["alice.png", "bob.jpg", "carol.png"]
const audios = ["p-001.wav", "p-002.wav", "p-003.mp3"]

/**
 * `customers` rows i taking image and audio i mod 3 (3 renders), then `team` rows taking image i
 * mod 3 and audio ⌊i / 3⌋ mod 3 (up to 9 renders, the customers' 3 among them).
 */
const project = (customers: number, team = 0) => {
  const p = tempProject()
  const rows = (prefix: string, n: number, audio: (i: number) => number) =>
    `id,image,audio\n${Array.from({ length: n }, (_, i) => `${prefix}${String(i).padStart(3, "0")},${images[i % 3]},${audios[audio(i) % 3]}\n`).join("")}`
  p.write(
    "customers.csv",
    rows("c", customers, (i) => i)
  )
  const set = (name: string) =>
    `  ${name}:\n    rows: ${name}.csv\n    image: assets/presenters/{{ row.image }}\n    audio: assets/outreach/{{ row.audio }}\n    output: out/{{ set }}/{{ row.id }}.mp4\n`
  if (team > 0)
    p.write(
      "team.csv",
      rows("t", team, (i) => Math.floor(i / 3))
    )
  p.write("big.yaml", `version: 1\nname: big\nsets:\n${set("customers")}${team > 0 ? set("team") : ""}`)
  return p
}

interface JsonJob {
  readonly id: string
  readonly set: string
  readonly state: string
  readonly fingerprint: string
  readonly estimatedCostUsd: number
  readonly inputs: {
    readonly image: { readonly path: string }
    readonly audio: { readonly path: string; readonly durationSeconds: number }
  }
}

/** The job table as `clapper plan` has always printed it, made from `plan --json`'s jobs. */
const jobTable = (jobs: ReadonlyArray<JsonJob>) =>
  formatTable(
    ["OUTPUT", "STATE", "SET", "IMAGE", "AUDIO", "COST", "FINGERPRINT"],
    jobs.map((job) => [
      job.id,
      job.state,
      job.set,
      job.inputs.image.path,
      `${job.inputs.audio.path} (${job.inputs.audio.durationSeconds.toFixed(1)} s)`,
      usd(job.estimatedCostUsd),
      job.fingerprint.slice("sha256:".length, "sha256:".length + 12)
    ])
  )

const plan = async (root: string, ...args: ReadonlyArray<string>) => {
  const human = await runCli(["plan", "big.yaml", ...args], { cwd: root })
  expect(human).toMatchObject({ code: 0, stderr: "" })
  const json = await runCli(["plan", "big.yaml", ...args.filter((a) => a !== "--all"), "--json"], { cwd: root })
  return { lines: human.stdout.split("\n"), jobs: (JSON.parse(json.stdout) as { jobs: ReadonlyArray<JsonJob> }).jobs }
}

const footer = (jobs: number, renders: number, cost: string, minutes: string) => [
  "",
  `${jobs} jobs, ${renders} renders, estimated ${cost}`,
  `${jobs} new, 0 changed, 0 in-flight, 0 up-to-date, 0 failed`,
  `${renders} renders to submit at 2 per minute: at least ${minutes}`,
  ""
]

describe("clapper plan for people: every job up to 50, a summary past that", () => {
  it("10 jobs: the whole table, as before", async () => {
    const { lines, jobs } = await plan(project(10).root)
    expect(lines).toEqual(["big (big.yaml)", "", ...jobTable(jobs), ...footer(10, 3, "$3.60", "2 min")])
  }, 60_000)

  it("50 jobs are still one table; 51 are a summary", async () => {
    const fifty = await plan(project(50).root)
    expect(fifty.lines).toEqual(["big (big.yaml)", "", ...jobTable(fifty.jobs), ...footer(50, 3, "$3.60", "2 min")])
    const more = await plan(project(51).root)
    expect(more.lines.slice(0, 4)).toEqual([
      "big (big.yaml)",
      "",
      "SET        JOBS  RENDERS  COST   NEW  CHANGED  IN-FLIGHT  UP-TO-DATE  FAILED",
      "customers  51    3        $3.60  51   0        0          0           0"
    ])
    expect(more.lines).toContain("… and 31 more jobs (clapper plan big.yaml --all lists every one; --json for all fields)")
  }, 60_000)

  it("120 jobs: the table per set, the first 20 jobs and how to see the rest; --all lists all 120", async () => {
    const p = project(100, 20)
    const { lines, jobs } = await plan(p.root)
    expect(lines).toEqual([
      "big (big.yaml)",
      "",
      "SET        JOBS  RENDERS  COST    NEW  CHANGED  IN-FLIGHT  UP-TO-DATE  FAILED",
      "customers  100   3        $3.60   100  0        0          0           0",
      "team       20    9        $10.80  20   0        0          0           0",
      // 3 + 9 renders in the rows, 9 in the totals: the customers' 3 are among the team's.
      "(a render two sets share is in both rows; the totals below count it once)",
      "",
      ...jobTable(jobs.slice(0, 20)),
      "… and 100 more jobs (clapper plan big.yaml --all lists every one; --json for all fields)",
      ...footer(120, 9, "$10.80", "5 min")
    ])
    const all = await plan(p.root, "--all")
    expect(all.lines).toEqual(["big (big.yaml)", "", ...jobTable(jobs), ...footer(120, 9, "$10.80", "5 min")])
    expect(all.lines.filter((line) => line.startsWith("out/"))).toHaveLength(120)
  }, 60_000)

  it("a selection: its line, its sets only, and the command for the rest repeats the selectors, quoted for a shell", async () => {
    const { lines } = await plan(project(100, 20).root, "--set", "customers", "--only", "out/*/c0*")
    expect(lines.slice(0, 5)).toEqual([
      "big (big.yaml)",
      "100 of 120 jobs selected (--only out/*/c0* --set customers)",
      "",
      "SET        JOBS  RENDERS  COST   NEW  CHANGED  IN-FLIGHT  UP-TO-DATE  FAILED",
      "customers  100   3        $3.60  100  0        0          0           0"
    ])
    expect(lines).toContain(
      "… and 80 more jobs (clapper plan big.yaml --only 'out/*/c0*' --set customers --all lists every one; --json for all fields)"
    )
  }, 60_000)

  it("the table per set counts each set's jobs in each state, with thousands separators", async () => {
    const p = project(1_200, 30)
    const planned = await planPipelinePromise(await loadPipelinePromise(`${p.root}/big.yaml`))
    const states = fc.array(fc.option(fc.constantFrom(...jobStateNames), { nil: undefined }), { minLength: 1, maxLength: 40 })
    fc.assert(
      fc.property(states, (names) => {
        const jobs = new Map<string, JobState>()
        planned.jobs.forEach((job, i) => {
          const name = names[i % names.length]
          if (name !== undefined) jobs.set(job.id, { name })
        })
        const rows = setSummaryLines(planned, { jobs })
          .slice(1, 3)
          .map((line) => line.split(/ {2,}/))
        for (const [set, row] of [
          ["customers", rows[0]],
          ["team", rows[1]]
        ] as const) {
          const ofSet = planned.jobs.filter((job) => job.set === set)
          const expected = jobStateNames.map((name) => ofSet.filter((job) => (jobs.get(job.id)?.name ?? "new") === name).length)
          // SET, JOBS and the states (RENDERS and COST do not depend on the state).
          expect([...(row ?? []).slice(0, 2), ...(row ?? []).slice(4)]).toEqual([
            set,
            ofSet.length.toLocaleString("en-US"),
            ...expected.map((n) => n.toLocaleString("en-US"))
          ])
        }
        expect(rows[0]?.[1]).toBe("1,200")
      }),
      { numRuns: 50 }
    )
  })
})
