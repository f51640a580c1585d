import { spawn } from "node:child_process"
import { join } from "node:path"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { campaignTime } from "../../src/cli/campaignTime.ts"
import { planJsonPieces } from "../../src/cli/planJsonText.ts"
import { loadPipelinePromise, planPipelinePromise, planToJson } from "../../src/index.ts"
import type { Plan } from "../../src/plan/plan.ts"
import { jobStateNames, type PipelineState } from "../../src/plan/planState.ts"
import type { JobState } from "../../src/plan/resume.ts"
import { resolveRunSettings } from "../../src/runtime/runSettings.ts"
import { repoPipelineProject } from "../support/repoPipeline.ts"
import { runCli } from "../support/runCli.ts"
import { repoRoot, tempProject } from "../support/tempProject.ts"

const images = ["alice.png", "bob.jpg", "carol.png"]
const audios = ["p-001.wav", "p-002.wav", "p-003.mp3"]

const textOf = (...chars: ReadonlyArray<string>) =>
  fc.array(fc.constantFrom(...chars), { minLength: 1, maxLength: 8 }).map((picked) => picked.join(""))
/** Text that JSON has to escape or keep as it is: quotes, accents, emoji, `&`, `<` (in file names too). */
const nameText = textOf("a", "Z", "0", " ", '"', "'", "é", "😀", "&", "<", "-")
/** The same and backslashes, which no output path may hold. */
const awkward = textOf("a", "Z", "0", " ", '"', "'", "\\", "é", "😀", "&", "<", "-", "\n")

const csvField = (value: string) => `"${value.replaceAll('"', '""')}"`

/** One set of the generated pipeline: rows over the example assets, spoken or from audio files, maybe captioned and overlaid. */
const setSpec = fc.record({
  rows: fc.array(fc.record({ name: nameText, image: fc.constantFrom(...images), audio: fc.constantFrom(...audios) }), {
    minLength: 1,
    maxLength: 4
  }),
  speech: fc.boolean(),
  captions: fc.boolean(),
  overlays: fc.boolean()
})

const pipelineSpec = fc.record({
  description: fc.option(awkward, { nil: undefined }),
  sets: fc.array(setSpec, { minLength: 1, maxLength: 3 })
})

type PipelineSpec = typeof pipelineSpec extends fc.Arbitrary<infer T> ? T : never

/** A pipeline file and its data files under `dir` of the project; its path. */
const writePipeline = (project: ReturnType<typeof tempProject>, dir: string, spec: PipelineSpec): string => {
  const sets = spec.sets.map((set, s) => {
    project.write(
      `${dir}/set${s}.csv`,
      `id,name,image,audio\n${set.rows.map((row, r) => [`r${r}`, csvField(row.name), row.image, row.audio].join(",")).join("\n")}\n`
    )
    return [
      `  set${s}:`,
      `    rows: set${s}.csv`,
      "    image: ../assets/presenters/{{ row.image }}",
      set.speech ? `    speech: { voice: voice_warm_en, text: "Hi {{ row.name }}" }` : "    audio: ../assets/outreach/{{ row.audio }}",
      ...(set.captions ? ["    captions: { template: ctpl_bold }"] : []),
      ...(set.overlays ? [`    overlays: [{ text: "For {{ row.name }}", color: "#FFCC00", size: 48 }]`] : []),
      `    output: out/{{ set }}/{{ row.id }} {{ row.name }}${set.overlays ? "-{{ overlay.index }}" : ""}.mp4`
    ].join("\n")
  })
  return project.write(
    `${dir}/pipeline.yaml`,
    `version: 1\nname: generated\n${spec.description !== undefined ? `description: ${JSON.stringify(spec.description)}\n` : ""}sets:\n${sets.join("\n")}\n`
  )
}

const jobState: fc.Arbitrary<JobState> = fc.record(
  {
    name: fc.constantFrom(...jobStateNames),
    detail: awkward,
    videoId: fc.stringMatching(/^vid_[A-Za-z0-9]{1,10}$/)
  },
  { requiredKeys: ["name"] }
)

/** A state for `plan`'s jobs: some known (with or without detail and video), some not; made up counts. */
const stateFor = (plan: Plan, known: ReadonlyArray<JobState | undefined>, counts: ReadonlyArray<number>): PipelineState => ({
  jobs: new Map(plan.jobs.flatMap((job, i) => (known[i % Math.max(known.length, 1)] ? [[job.id, known[i % known.length]!]] : []))),
  counts: {
    new: counts[0] ?? 0,
    changed: counts[1] ?? 0,
    "in-flight": counts[2] ?? 0,
    "up-to-date": counts[3] ?? 0,
    failed: counts[4] ?? 0
  },
  spentUsd: 0,
  possibleDuplicates: 0,
  runner: { _tag: "Absent", lockFile: "lock" },
  warnings: []
})

/**
 * The real binary with all of its output (runCli's buffer stops at 1 MB); `stopAfterFirst`
 * closes the pipe after the first chunk, as `| head -c 100` does.
 */
const runPlanCli = (args: ReadonlyArray<string>, cwd: string, stopAfterFirst = false) =>
  new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, [join(repoRoot, "bin", "clapper.js"), ...args], {
      cwd,
      env: { ...process.env, NO_COLOR: "1" }
    })
    const stdout: Array<Buffer> = []
    let stderr = ""
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString()
    })
    child.stdout.on("data", (chunk: Buffer) => {
      stdout.push(chunk)
      if (stopAfterFirst) child.stdout.destroy()
    })
    child.on("close", (code) => resolve({ code, stdout: Buffer.concat(stdout).toString("utf8"), stderr }))
  })

const bigPipeline = (jobs: number) => {
  const p = tempProject()
  const rows = Array.from({ length: jobs }, (_, i) => `c${String(i).padStart(4, "0")},${images[i % 3]},${audios[i % 3]}`)
  p.write("customers.csv", `id,image,audio\n${rows.join("\n")}\n`)
  p.write(
    "big.yaml",
    "version: 1\nname: big\nsets:\n  customers:\n    rows: customers.csv\n    image: assets/presenters/{{ row.image }}\n    audio: assets/outreach/{{ row.audio }}\n    output: out/{{ row.id }}.mp4\n"
  )
  return { root: p.root, ids: rows.map((row) => `out/${row.slice(0, 5)}.mp4`) }
}

const streamed = (...args: Parameters<typeof planJsonPieces>) => [...planJsonPieces(...args)].join("")

describe("clapper plan --json, written in pieces", () => {
  it("is byte for byte JSON.stringify(planToJson(…), null, 2) and a newline, for generated pipelines planned for real", async () => {
    const project = tempProject()
    let run = 0
    await fc.assert(
      fc.asyncProperty(
        pipelineSpec,
        fc.nat(),
        fc.option(fc.array(fc.option(jobState, { nil: undefined }), { maxLength: 5 }), { nil: undefined }),
        fc.array(fc.nat({ max: 200_000 }), { minLength: 5, maxLength: 5 }),
        fc.option(
          fc.record({
            given: fc.record({ sets: fc.array(awkward, { maxLength: 2 }), limit: fc.nat() }, { requiredKeys: [] }),
            jobs: fc.nat(),
            matched: fc.nat(),
            of: fc.nat(),
            nothingFailed: fc.boolean()
          }),
          { nil: undefined }
        ),
        async (spec, keep, known, counts, selection) => {
          const dir = `run-${run++}`
          const pipeline = await loadPipelinePromise(writePipeline(project, dir, spec))
          const planned = await planPipelinePromise(pipeline)
          // Every length from none to all: what a selection leaves.
          const plan = { ...planned, jobs: planned.jobs.slice(0, keep % (planned.jobs.length + 1)) }
          const state = known === undefined ? undefined : stateFor(plan, known, counts)
          const time = state === undefined ? undefined : campaignTime(plan, state, resolveRunSettings(pipeline.spec, {}).quotas)
          const cwd = join(project.root, dir)
          expect(streamed(plan, cwd, state, time, selection)).toBe(
            `${JSON.stringify(planToJson(plan, cwd, state, time, selection), null, 2)}\n`
          )
        }
      ),
      { numRuns: 60 }
    )
  }, 60_000)

  it('writes `"jobs": []` for no job, and one job without a trailing comma', async () => {
    const project = tempProject()
    const file = writePipeline(project, "one", {
      description: undefined,
      sets: [{ rows: [{ name: "Ada", image: "alice.png", audio: "p-001.wav" }], speech: false, captions: false, overlays: false }]
    })
    const plan = await planPipelinePromise(await loadPipelinePromise(file))
    const none = streamed({ ...plan, jobs: [] }, project.root)
    expect(none).toContain('\n  "jobs": [],\n  "totals": {')
    expect(JSON.parse(none).jobs).toEqual([])
    const one = streamed(plan, project.root)
    expect(one).toBe(`${JSON.stringify(planToJson(plan, project.root), null, 2)}\n`)
    expect(JSON.parse(one).jobs).toHaveLength(1)
  })

  it("through the CLI: 3,000 jobs of a rows set parse to 3,000 jobs in order, the totals right, the text JSON's own indented form", async () => {
    const big = bigPipeline(3_000)
    const result = await runPlanCli(["plan", "big.yaml", "--json"], big.root)
    expect(result).toMatchObject({ code: 0, stderr: "" })
    const plan = JSON.parse(result.stdout)
    expect(plan.jobs).toHaveLength(3_000)
    // Across the pieces (a thousand jobs each): every job once, in plan order.
    expect(plan.jobs.map((job: { id: string }) => job.id)).toEqual(big.ids)
    expect(plan.jobs[1_000]).toMatchObject({ id: "out/c1000.mp4", set: "customers", index: 1_000, state: "new" })
    // 3 images × 3 audios, row i taking image i mod 3 and audio i mod 3: 3 distinct renders.
    expect(plan.totals).toMatchObject({ jobs: 3_000, renders: 3, states: { new: 3_000 }, rendersToSubmit: 3 })
    expect(result.stdout).toBe(`${JSON.stringify(plan, null, 2)}\n`)
  }, 60_000)

  it("through the CLI: a selection and the state are in it; --all changes nothing", async () => {
    const cwd = repoPipelineProject("spring-launch.yaml")
    const json = await runCli(["plan", "pipelines/spring-launch.yaml", "--set", "outreach", "--json"], { cwd })
    expect(json.code).toBe(0)
    const plan = JSON.parse(json.stdout)
    expect(plan.selection).toEqual({ given: { sets: ["outreach"] }, jobs: 3, matched: 3, of: 12, nothingFailed: false })
    expect(plan.jobs.map((job: { set: string; state: string }) => [job.set, job.state])).toEqual([
      ["outreach", "new"],
      ["outreach", "new"],
      ["outreach", "new"]
    ])
    expect(json.stdout).toBe(`${JSON.stringify(plan, null, 2)}\n`)
    const all = await runCli(["plan", "pipelines/spring-launch.yaml", "--set", "outreach", "--json", "--all"], { cwd })
    expect(all).toEqual(json)
  }, 60_000)

  it("through a pipe whose reader stops after the first bytes: the command ends at once, exit 0, nothing on stderr", async () => {
    const big = bigPipeline(3_000)
    const ended = await runPlanCli(["plan", "big.yaml", "--json"], big.root, true)
    expect(ended).toMatchObject({ code: 0, stderr: "" })
    expect(ended.stdout).toMatch(/^\{\n {2}"pipeline": \{/)
    expect(ended.stdout.length).toBeLessThan(1_000_000)
  }, 60_000)
})
