/**
 * An output that would overwrite what the pipeline reads or what Clapper keeps (an input image,
 * an input reached through a hard link or a symlinked folder, the pipeline file, a data file, the
 * lock file, the journal) or that is an existing folder: `clapper validate` and `clapper run`
 * exit 2 naming it, before anything is sent (the simulator sees no request), and every file of
 * the project is left as it was. One project holds one pipeline per clash; the commands run side
 * by side.
 */
import { linkSync, mkdirSync, symlinkSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { roomyQuotaFlags } from "../support/runCli.ts"
import { apiRequests, type Campaign, clapper, expectExit, expectNoCrash, onSimulator } from "./support.ts"

interface Clash {
  readonly what: string
  /** The clashing output, as written in the pipeline (relative to the project root). */
  readonly output: (name: string) => string
  /** Makes what the case needs in the project. */
  readonly prepare?: (c: Campaign, name: string) => void
  /** The pipeline's sets (default: two pairs, the first writing `output`). */
  readonly sets?: (name: string, output: string) => ReadonlyArray<string>
  readonly problem: RegExp
}

const pairs = (name: string, output: string) => [
  "  all:",
  "    pairs:",
  `      - { image: assets/presenters/alice.png, audio: voice/v0.wav, output: ${JSON.stringify(output)} }`,
  `      - { image: assets/presenters/alice.png, audio: voice/v1.wav, output: out/${name}-v1.mp4 }`
]

const clashes: ReadonlyArray<Clash> = [
  { what: "the input image", output: () => "assets/presenters/alice.png", problem: /input image/ },
  {
    what: "another job's input audio, through a hard link",
    output: (name) => `out/${name}-alias.mp4`,
    prepare: (c, name) => {
      mkdirSync(join(c.root, "out"), { recursive: true })
      linkSync(join(c.root, "voice/v1.wav"), join(c.root, `out/${name}-alias.mp4`))
    },
    problem: /input audio/
  },
  {
    what: "the input image, through a symlinked folder",
    output: () => "faces/alice.png",
    prepare: (c) => symlinkSync(join(c.root, "assets/presenters"), join(c.root, "faces")),
    problem: /input image/
  },
  { what: "the pipeline file", output: (name) => `${name}.yaml`, problem: /pipeline file/ },
  {
    what: "a data file",
    output: () => "data/rows.csv",
    prepare: (c) => void c.p.write("data/rows.csv", "voice\nv0.wav\n"),
    sets: (_, output) => [
      "  rows:",
      "    rows: data/rows.csv",
      "    image: assets/presenters/alice.png",
      "    audio: voice/{{ row.voice }}",
      `    output: ${output}`
    ],
    problem: /data/
  },
  { what: "the lock file", output: (name) => `${name}.lock.json`, problem: /lock file/ },
  {
    what: "the journal in the state folder",
    output: (name) => `.clapper/${name}/journal.jsonl`,
    prepare: (c, name) =>
      void c.p.write(`.clapper/${name}/journal.jsonl`, `${JSON.stringify({ t: "header", version: 1, pipeline: name })}\n`),
    problem: /state folder/
  },
  {
    what: "an existing folder",
    output: (name) => `out/${name}-existing`,
    prepare: (c, name) => void mkdirSync(join(c.root, `out/${name}-existing/keep`), { recursive: true }),
    problem: /existing folder/
  }
]

describe("an output may never overwrite an input, the state or a folder: refused before anything is sent", () => {
  it(`validate and run refuse an output that is: ${clashes.map((c) => c.what).join("; ")}`, async () => {
    const { c, sim } = await onSimulator(["out/v0.mp4", "out/v1.mp4"])
    const cases = clashes.map((clash, i) => {
      const name = `clash${i}`
      const output = clash.output(name)
      c.p.write(`${name}.yaml`, ["version: 1", `name: ${name}`, "sets:", ...(clash.sets ?? pairs)(name, output), ""].join("\n"))
      clash.prepare?.(c, name)
      return { ...clash, name, output }
    })
    const before = c.p.snapshot()

    // One validate for every file; one run per file, a few side by side. All of them only read.
    const validating = clapper(["validate", ...cases.map((k) => `${k.name}.yaml`)], { cwd: c.root })
    const runs: Array<Awaited<typeof validating>> = []
    for (let i = 0; i < cases.length; i += 3) {
      const batch = cases.slice(i, i + 3)
      runs.push(
        ...(await Promise.all(
          batch.map((k) => clapper(["run", `${k.name}.yaml`, "--base-url", sim.baseUrl, ...roomyQuotaFlags], { cwd: c.root }))
        ))
      )
    }
    const validated = await validating
    expectExit(validated, 2)
    const said = validated.stdout + validated.stderr
    cases.forEach((k, i) => {
      // Named: the pipeline's line and column, the output as written, and why.
      const reported = said.split("\n").filter((line) => line.startsWith(`${k.name}.yaml:`))
      expect
        .soft(reported.join("\n"), k.what)
        .toMatch(new RegExp(`^${k.name}\\.yaml:\\d+:\\d+: .*"${k.output.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}"`))
      expect.soft(reported.join("\n"), k.what).toMatch(k.problem)
      const run = runs[i]!
      expectNoCrash(run)
      expect.soft(run.code, `${k.what}: ${run.stdout}${run.stderr}`).toBe(2)
      expect.soft(run.stdout + run.stderr, k.what).toContain(`"${k.output}"`)
    })

    expect(apiRequests(await sim.stats())).toBe(0)
    // Every file as it was: the inputs, the pipelines, the data, the state.
    expect(c.p.snapshot()).toEqual(before)
  }, 90_000)
})
