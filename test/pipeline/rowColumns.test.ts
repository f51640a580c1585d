/**
 * A rows set's jobs carry the data file's column names in file order (`rowColumns`): a results
 * table lists the columns as the user wrote them, which a row object cannot tell (JavaScript puts
 * integer-like keys such as "2024" first). One array for the whole set, not one per job.
 */
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { expandPipelinePromise, loadPipelinePromise } from "../../src/index.ts"
import { tempProject } from "../support/tempProject.ts"
import { alice, header, hello } from "./problems.ts"

const jobsOf = async (files: Record<string, string>, yaml: string) => {
  const p = tempProject()
  for (const [path, content] of Object.entries(files)) p.write(path, content)
  return expandPipelinePromise(await loadPipelinePromise(p.write("pipeline.yaml", yaml)))
}

const rowsSet = (file: string) =>
  `${header}sets:\n  a:\n    rows: ${file}\n    image: ${alice}\n    audio: ${hello}\n    output: out/{{ index }}.mp4\n`

/** Column names a user might write: words, years, numbers (integer-like keys are what objects reorder). */
const columnName = fc.oneof(
  fc.stringMatching(/^[a-z][a-z0-9_]{0,8}$/),
  fc.integer({ min: 0, max: 99999 }).map(String),
  fc.constantFrom("2024", "10", "0", "1", "007", "-1", "1.5")
)

describe("rowColumns", () => {
  it("is the CSV header in file order, integer-like names included, one array shared by the set's jobs", async () => {
    const jobs = await jobsOf({ "data.csv": "name,2024,id,10\nAda,x,1,y\nBob,z,2,w\n" }, rowsSet("data.csv"))
    expect(jobs.map((job) => job.rowColumns)).toEqual([
      ["name", "2024", "id", "10"],
      ["name", "2024", "id", "10"]
    ])
    expect(jobs[0]?.rowColumns).toBe(jobs[1]?.rowColumns)
    expect(Object.keys(jobs[0]?.row ?? {})).toEqual(["10", "2024", "name", "id"]) // why the order is kept apart
  })

  it("follows any CSV header", async () => {
    await fc.assert(
      fc.asyncProperty(fc.uniqueArray(columnName, { minLength: 1, maxLength: 8 }), async (columns) => {
        const row = columns.map((_, i) => `v${i}`).join(",")
        const jobs = await jobsOf({ "data.csv": `${columns.join(",")}\n${row}\n${row}\n` }, rowsSet("data.csv"))
        expect(jobs.map((job) => job.rowColumns)).toEqual([columns, columns])
      }),
      { numRuns: 25 }
    )
  })

  it("is the keys of a YAML or JSON data file in the order they first appear", async () => {
    const yaml = "- { 2024: a, name: Ada }\n- { name: Bob, 7: b, 2024: c }\n"
    expect((await jobsOf({ "rows.yaml": yaml }, rowsSet("rows.yaml"))).map((job) => job.rowColumns)).toEqual([
      ["2024", "name", "7"],
      ["2024", "name", "7"]
    ])
    const json = `[{ "z": "1", "3": "x" }, { "3": "y", "z": "2" }]`
    expect((await jobsOf({ "rows.json": json }, rowsSet("rows.json"))).map((job) => job.rowColumns)).toEqual([
      ["z", "3"],
      ["z", "3"]
    ])
  })

  it("is absent outside rows sets", async () => {
    const jobs = await jobsOf({}, `${header}sets:\n  a:\n    pairs: [{ image: ${alice}, audio: ${hello} }]\n`)
    expect(jobs).toHaveLength(1)
    expect(jobs[0]?.rowColumns).toBeUndefined()
  })
})
