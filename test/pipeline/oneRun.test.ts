/**
 * Every problem of a pipeline in one run: decoding, data files, templates and inputs are checked
 * in one pass, so a problem in one part does not hide those of the others (and a user does not
 * fix them one run at a time). A missing file suggests the close names in its folder; an output
 * outside the project root says how the root was chosen and how to change it.
 */
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { dirname, join } from "node:path"
import { afterEach, describe, expect, it } from "vitest"
import { formatDiagnostic, PipelineInvalid, validatePipelinePromise } from "../../src/index.ts"
import { sortDiagnostics } from "../../src/pipeline/diagnostic.ts"
import { assetsDir, repoRoot, tempProject, type TempProject } from "../support/tempProject.ts"
import { alice, header, hello } from "./problems.ts"

/** The diagnostics of validating `pipeline.yaml` (written from `yaml`), in the order the CLI prints them. */
const problems = async (project: TempProject, yaml: string): Promise<ReadonlyArray<string>> => {
  const file = project.write("pipeline.yaml", yaml)
  const before = project.snapshot()
  const error = await validatePipelinePromise(file).then(
    () => undefined,
    (e: unknown) => e
  )
  expect(project.snapshot()).toEqual(before)
  expect(error).toBeInstanceOf(PipelineInvalid)
  const shown = (text: string) => text.split(project.root + "/").join("")
  return sortDiagnostics((error as PipelineInvalid).diagnostics).map((d) => shown(formatDiagnostic(d)))
}

const prospects = readFileSync(join(repoRoot, "examples", "data", "prospects.csv"))

describe("one run reports every problem", () => {
  it("an unknown key does not stop the templates, data files and inputs from being checked", async () => {
    const p = tempProject()
    const out = await problems(
      p,
      `${header}outptu: x.mp4\nsets:\n  a:\n    pairs:\n      - { image: assets/presenters/alcie.png, audio: ${hello}, output: "out/{{ image.stme }}.mp4" }\n`
    )
    expect(out).toEqual([
      `pipeline.yaml:3:1: unknown key "outptu" (did you mean "output"?)`,
      `pipeline.yaml:7:18: image "assets/presenters/alcie.png": no such file (did you mean "assets/presenters/alice.png"?)`,
      expect.stringMatching(/^pipeline\.yaml:7:\d+: unknown variable "image\.stme" \(did you mean "image\.stem"\?/)
    ])
  })

  it("an unknown key inside a set leaves the rest of that set to check", async () => {
    const p = tempProject()
    const out = await problems(
      p,
      `${header}sets:\n  a:\n    descripton: x\n    pairs:\n      - { image: ${alice}, audio: assets/voice/helo.wav }\n`
    )
    expect(out).toEqual([
      `pipeline.yaml:5:5: unknown key "descripton" in sets.a (did you mean "description"?)`,
      `pipeline.yaml:7:54: audio "assets/voice/helo.wav": no such file (did you mean "assets/voice/hello.wav"?)`
    ])
  })

  it("a problem in the run policy or the name does not stop the expansion", async () => {
    const p = tempProject()
    const out = await problems(
      p,
      `version: 1\nname: Not A Slug\nrun: { timeout: soon }\nsets:\n  a: { pairs: [{ image: assets/nobody.png, audio: ${hello} }] }\n`
    )
    expect(out).toEqual([
      expect.stringMatching(/^pipeline\.yaml:2:7: name: expected a slug/),
      expect.stringMatching(/^pipeline\.yaml:3:17: run\.timeout: expected a duration/),
      `pipeline.yaml:5:25: image "assets/nobody.png": no such file`
    ])
  })

  it("a broken output template does not hide a missing input, and a set that does not decode leaves the others to check", async () => {
    const p = tempProject()
    const out = await problems(
      p,
      `${header}sets:\n  a:\n    output: "out/{{ nope }}.mp4"\n    pairs: [{ image: assets/nobody.png, audio: ${hello} }]\n  b:\n    pairs: [{ image: 3 }]\n  c:\n    pairs: [{ image: assets/presenters/bobb.jpg, audio: ${hello} }]\n`
    )
    expect(out).toEqual([
      expect.stringMatching(/^pipeline\.yaml:5:18: unknown variable "nope"/),
      `pipeline.yaml:6:22: image "assets/nobody.png": no such file`,
      'pipeline.yaml:8:13: sets.b.pairs[0] is missing the required key "audio" (or give the set `speech`)',
      "pipeline.yaml:8:22: sets.b.pairs[0].image: expected string, actual 3",
      `pipeline.yaml:10:22: image "assets/presenters/bobb.jpg": no such file (did you mean "assets/presenters/bob.jpg"?)`
    ])
  })

  it("a rows set whose data file is missing still has its templates checked (any row column taken on trust)", async () => {
    const p = tempProject()
    p.write("data/prospects.csv", prospects)
    const out = await problems(
      p,
      `${header}sets:\n  outreach:\n    rows: data/prospect.csv\n    image: assets/presenters/{{row.presenter}}\n    audio: "assets/outreach/{{ row.audio | lowr }}"\n    output: "out/{{ row.id }}-{{ imge.stem }}.mp4"\n`
    )
    expect(out).toEqual([
      `pipeline.yaml:5:11: data file "data/prospect.csv" not found (relative to pipeline.yaml's folder; did you mean "data/prospects.csv"?)`,
      expect.stringMatching(/^pipeline\.yaml:7:\d+: unknown filter "lowr" \(did you mean "lower"\?/),
      expect.stringMatching(/^pipeline\.yaml:8:\d+: unknown variable "imge\.stem" \(did you mean "image\.stem"\?/)
    ])
  })

  it("the inputs of a rows set are read even when its output template is broken, each reported at its row", async () => {
    const p = tempProject()
    p.write("data/people.csv", "id,presenter,audio\n1,alice.png,p-001.wav\n2,alcie.png,p-002.wav\n")
    const out = await problems(
      p,
      `${header}sets:\n  outreach:\n    rows: data/people.csv\n    image: assets/presenters/{{row.presenter}}\n    audio: assets/outreach/{{row.audio}}\n    output: "out/{{ row.idd }}.mp4"\n`
    )
    expect(out).toEqual([
      `data/people.csv:3:1: image "assets/presenters/alcie.png": no such file (did you mean "assets/presenters/alice.png"?)`,
      expect.stringMatching(/^pipeline\.yaml:8:\d+: unknown variable "row\.idd" \(did you mean "row\.id"\?/)
    ])
  })

  it("vars that do not decode stop before the expansion: no guesses built on them", async () => {
    const p = tempProject()
    const out = await problems(
      p,
      `${header}vars: [a, b]\noutput: "out/{{ vars.a }}.mp4"\nsets:\n  a: { pairs: [{ image: assets/nobody.png, audio: ${hello} }] }\n`
    )
    expect(out).toEqual([expect.stringMatching(/^pipeline\.yaml:3:7: vars: /)])
  })
})

describe("a missing file suggests the close names in its folder", () => {
  const made: Array<string> = []
  afterEach(() => made.splice(0).forEach((dir) => rmSync(dir, { recursive: true, force: true })))

  const diagnosticsOf = async (file: string) => {
    const error = await validatePipelinePromise(file).then(
      () => undefined,
      (e: unknown) => e
    )
    expect(error).toBeInstanceOf(PipelineInvalid)
    return sortDiagnostics((error as PipelineInvalid).diagnostics).map(formatDiagnostic)
  }

  it("the pipeline file: a close name in its folder, or in a close folder; nothing when nothing is close", async () => {
    const p = tempProject()
    p.write("pipelines/quickstart.yaml", `${header}sets:\n  a: { pairs: [{ image: ${alice}, audio: ${hello} }] }\n`)
    const cwd = process.cwd()
    process.chdir(p.root)
    try {
      expect(await diagnosticsOf("pipelines/quickstar.yaml")).toEqual([
        `pipelines/quickstar.yaml:1:1: no such pipeline file (did you mean "pipelines/quickstart.yaml"?)`
      ])
      expect(await diagnosticsOf("pipeline/quickstart.yaml")).toEqual([
        `pipeline/quickstart.yaml:1:1: no such pipeline file (did you mean "pipelines/quickstart.yaml"?)`
      ])
      expect(await diagnosticsOf("./pipelines/QuickStart.yaml")).toEqual([
        `./pipelines/QuickStart.yaml:1:1: no such pipeline file (did you mean "pipelines/quickstart.yaml"?)`
      ])
      expect(await diagnosticsOf("pipelines/other.yaml")).toEqual([`pipelines/other.yaml:1:1: no such pipeline file`])
      expect(await diagnosticsOf(`${p.root}/pipelines/quikstart.yaml`)).toEqual([
        `${p.root}/pipelines/quikstart.yaml:1:1: no such pipeline file (did you mean "${p.root}/pipelines/quickstart.yaml"?)`
      ])
    } finally {
      process.chdir(cwd)
    }
  })

  it("an input: a close file name, or a close folder name; a folder of that name is not offered as a file", async () => {
    const p = tempProject()
    const out = await problems(
      p,
      `${header}sets:\n  a:\n    pairs:\n      - { image: assets/presenter/carol.png, audio: assets/voice/welcome.mp4 }\n      - { image: assets/voices, audio: ${hello} }\n`
    )
    expect(out).toEqual([
      `pipeline.yaml:6:18: image "assets/presenter/carol.png": no such file (did you mean "assets/presenters/carol.png"?)`,
      `pipeline.yaml:6:53: audio "assets/voice/welcome.mp4": no such file (did you mean "assets/voice/welcome.mp3"?)`,
      `pipeline.yaml:7:18: image "assets/voices": no such file`
    ])
  })

  it("an output outside the project root says how the root was found: the nearest folder holding package.json or .git", async () => {
    const p = tempProject()
    const out = await problems(
      p,
      `${header}output: ../elsewhere/{{ image.stem }}.mp4\nsets:\n  a: { pairs: [{ image: ${alice}, audio: ${hello} }] }\n`
    )
    expect(out).toHaveLength(1)
    expect(out[0]).toMatch(
      /outside the project root .*: outputs must stay inside it\. The root is the nearest folder at or above the pipeline's holding \.git or package\.json \(here package\.json\); choose an output inside it/
    )
  })

  // Only where no folder above the system's temporary folder is marked (as on CI and most machines).
  const unmarked = (() => {
    for (let dir = tmpdir(); ; dir = dirname(dir)) {
      if (existsSync(join(dir, ".git")) || existsSync(join(dir, "package.json"))) return false
      if (dirname(dir) === dir) return true
    }
  })()

  it.runIf(unmarked)("without any marker, the root is the pipeline's own folder, and the message says how to widen it", async () => {
    const root = mkdtempSync(join(tmpdir(), "clapper-unmarked-"))
    made.push(root)
    cpSync(assetsDir, join(root, "assets"), { recursive: true })
    const { writeFileSync } = await import("node:fs")
    writeFileSync(
      join(root, "p.yaml"),
      `${header}output: ../x-{{ image.stem }}.mp4\nsets:\n  a: { pairs: [{ image: ${alice}, audio: ${hello} }] }\n`
    )
    const out = await diagnosticsOf(join(root, "p.yaml"))
    expect(out).toHaveLength(1)
    expect(out[0]).toContain(
      `outside the project root ${root}: outputs must stay inside it. No folder at or above the pipeline's holds .git or package.json, so the root is the pipeline's own folder; choose an output inside it, or add a .git or package.json to a folder above both the pipeline and its outputs`
    )
  })
})
