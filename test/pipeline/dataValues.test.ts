/**
 * Data keeps its text: a value from a rows file or from `vars` reaches templates exactly as
 * written (`007` is not 7), and a CSV header may not name a column twice.
 */
import { describe, expect, it } from "vitest"
import { expandPipelinePromise, loadPipelinePromise } from "../../src/index.ts"
import { tempProject } from "../support/tempProject.ts"
import { alice, header, hello, problems } from "./problems.ts"

/** The written forms YAML would read as numbers or booleans. */
const written = ["007", "0x1F", "1e3", "1_000", ".5", "+1", "-0", "true", "True", "yes", "12345678901234567890"]

const outputsOf = async (files: Record<string, string>, yaml: string) => {
  const p = tempProject()
  for (const [path, content] of Object.entries(files)) p.write(path, content)
  const jobs = await expandPipelinePromise(await loadPipelinePromise(p.write("pipeline.yaml", yaml)))
  return jobs.map((job) => job.id)
}

const rowsSet = (file: string) =>
  `${header}sets:\n  a:\n    rows: ${file}\n    image: ${alice}\n    audio: ${hello}\n    output: out/{{ row.id }}.mp4\n`

describe("values keep their text", () => {
  it("in a YAML rows file", async () => {
    const yaml = written.map((value) => `- { id: ${value} }`).join("\n")
    expect(await outputsOf({ "rows.yaml": yaml }, rowsSet("rows.yaml"))).toEqual(written.map((value) => `out/${value}.mp4`))
  })

  it("in a JSON rows file: numbers as their literal", async () => {
    const literals = ["1e3", "-1.50", "0.10", "100000000000000000001", "true"]
    const json = `[${literals.map((value) => `{ "id": "x", "n": ${value} }`).join(", ")}]`
    const yaml = `${header}sets:\n  a:\n    rows: rows.json\n    image: ${alice}\n    audio: ${hello}\n    output: out/{{ index }}-{{ row.n }}.mp4\n`
    expect(await outputsOf({ "rows.json": json }, yaml)).toEqual([
      "out/0-1e3.mp4",
      "out/1--1.50.mp4",
      "out/2-0.10.mp4",
      "out/3-100000000000000000001.mp4",
      "out/4-true.mp4"
    ])
  })

  it("in vars (quoted or not), and in scripts as in paths", async () => {
    const vars = written.map((value, i) => `  v${i}: ${value}`).join("\n")
    const output = written.map((_, i) => `{{ vars.v${i} }}`).join("_")
    const p = tempProject()
    const file = p.write(
      "pipeline.yaml",
      `${header}vars:\n${vars}\n  quoted: "007"\noutput: out/${output}-{{ vars.quoted }}.mp4\nsets:\n  a:\n    speech: { voice: v, text: "Agent {{ vars.v0 }}, {{ vars.v2 }} times" }\n    pairs: [{ image: ${alice} }]\n`
    )
    const pipeline = await loadPipelinePromise(file)
    expect(pipeline.spec.vars).toMatchObject({ v0: "007", v1: "0x1F", v7: "true", quoted: "007" })
    const [job] = await expandPipelinePromise(pipeline)
    expect(job?.id).toBe(`out/${written.join("_")}-007.mp4`)
    expect(job?.speech?.text).toBe("Agent 007, 1e3 times")
  })

  it("CSV values were text already", async () => {
    expect(await outputsOf({ "rows.csv": "id\n007\n1e3\n" }, rowsSet("rows.csv"))).toEqual(["out/007.mp4", "out/1e3.mp4"])
  })
})

describe("CSV header", () => {
  it("a column named twice is an error at the second, naming both places", async () => {
    const p = tempProject()
    p.write("data.csv", "\nid,presenter, id ,presenter\np1,alice.png,p2,bob.jpg\n")
    const out = await problems(
      p,
      `${header}sets:\n  a:\n    rows: data.csv\n    image: assets/presenters/{{ row.presenter }}\n    audio: ${hello}\n`
    )
    expect(out).toEqual([
      `data.csv:2:15: the column "id" is in the header twice, at 2:1 and 2:15: rename one (a row would keep only the last one's value)`,
      `data.csv:2:19: the column "presenter" is in the header twice, at 2:4 and 2:19: rename one (a row would keep only the last one's value)`
    ])
  })

  it("quoted commas do not split a column", async () => {
    const p = tempProject()
    p.write("data.csv", '"a,b",id,"a,b"\nx,p1,y\n')
    const out = await problems(p, `${header}sets:\n  a:\n    rows: data.csv\n    image: ${alice}\n    audio: ${hello}\n`)
    expect(out).toEqual([
      `data.csv:1:10: the column "a,b" is in the header twice, at 1:1 and 1:10: rename one (a row would keep only the last one's value)`
    ])
  })
})
