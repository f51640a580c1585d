/**
 * `clapper results` and `pipelineResults`: one row per job joined to its data row, from the plan,
 * the state and the files on disk, as a user gets it (the real binary) and as a program does.
 */
import { NodeContext } from "@effect/platform-node"
import { Effect, Schema } from "effect"
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { JobResult } from "../../src/app/jobResult.ts"
import { pipelineResults, pipelineResultsPromise, resultsOptionDiagnostics, writeResultsAfterRun } from "../../src/app/results.ts"
import { expandPipeline } from "../../src/pipeline/expand.ts"
import { loadPipeline } from "../../src/pipeline/load.ts"
import { planPipeline } from "../../src/plan/plan.ts"
import { currentStateStore } from "../../src/state/StateStore.ts"
import { roomyQuotaFlags, runCli } from "../support/runCli.ts"
import { tempProject } from "../support/tempProject.ts"
import { peopleRows, readCsv, runOnSim, writeCampaign } from "./support.ts"

const header = [
  "set",
  "index",
  "id",
  "name",
  "company",
  "note",
  // The data's own `state` column, beside the table's.
  "row.state",
  "score",
  "2024",
  "output",
  "state",
  "video_id",
  "share_link_url",
  "duration_seconds",
  "estimated_cost_usd",
  "attempts",
  "error_step",
  "error",
  "error_code"
]

const decodeResults = Schema.decodeUnknownSync(Schema.Array(JobResult))

describe("clapper results: one row per job, joined to its data row", () => {
  it("before any run: every job to do, in plan order, each data row's columns in the data file's order", async () => {
    const p = tempProject()
    const file = writeCampaign(p)
    const results = await pipelineResultsPromise(file)
    expect(results.map((r) => [r.set, r.index, r.output, r.state, r.attempts])).toEqual([
      ["people", 0, "renders/people/p1.mp4", "to-do", 0],
      ["people", 1, "renders/people/p2.mp4", "to-do", 0],
      ["people", 2, "renders/people/p3.mp4", "to-do", 0],
      ["hero", 0, "renders/hero.mp4", "to-do", 0]
    ])
    expect(results.slice(0, 3).map((r) => r.row)).toEqual(peopleRows)
    expect(results[3]?.row).toBeUndefined()
    expect(results.every((r) => r.videoId === undefined && r.error === undefined && r.estimatedCostUsd === 0.9)).toBe(true)

    const cli = await runCli(["results", "campaign.yaml"], { cwd: p.root })
    expect(cli.code, cli.stderr).toBe(0)
    const table = readCsv(cli.stdout)
    expect(table.header).toEqual(header)
    expect(table.rows.map((r) => r["state"])).toEqual(["to-do", "to-do", "to-do", "to-do"])
    // The pair has no data row: blank where the rows set has columns.
    expect(table.rows[3]).toMatchObject({ set: "hero", id: "", name: "", video_id: "", attempts: "0" })
  }, 60_000)

  it("after a run: done, with the provider's video ids and share links; the CSV is spreadsheet-safe and round-trips; JSON and JSONL are the library's records", async () => {
    const p = tempProject()
    const file = writeCampaign(p)
    const { summary, baseUrl } = await runOnSim(file)
    expect(summary.failed).toEqual([])

    const results = await pipelineResultsPromise(file)
    for (const result of results) {
      expect(result.state).toBe("done")
      expect(result.videoId).toMatch(/^video_/)
      expect(result.shareLinkUrl).toBe(`${baseUrl}/share/${result.videoId}`)
      expect(result.attempts).toBe(1)
      expect(result.error).toBeUndefined()
    }

    const csv = await runCli(["results", "campaign.yaml"], { cwd: p.root })
    expect(csv.code, csv.stderr).toBe(0)
    // RFC 4180: CRLF between records; the line break inside a value is inside its quotes.
    expect(csv.stdout.endsWith("\r\n")).toBe(true)
    expect(csv.stdout).toContain(`,"said ""hi""\r\nthen left",`)
    const table = readCsv(csv.stdout)
    expect(table.header).toEqual(header)
    const [p1, p2, p3, hero] = table.rows
    // Commas, quotes and line breaks come back as they were.
    expect(p1).toMatchObject({ id: "p1", company: "Engines, Ltd", note: 'said "hi"\r\nthen left' })
    // What a spreadsheet would run is prefixed with a quote; plain numbers are left alone.
    expect(p1).toMatchObject({ "row.state": `'=HYPERLINK("http://evil.example")`, score: "+1" })
    expect(p2).toMatchObject({ company: "'@corp", note: "'-rm -rf", "row.state": "-5", score: "3" })
    expect(p3).toMatchObject({ "row.state": "", score: "'+44 20 7946 0958" })
    expect(hero).toMatchObject({ set: "hero", index: "0", output: "renders/hero.mp4", state: "done" })
    for (const [i, row] of table.rows.entries()) {
      expect(row["video_id"]).toBe(results[i]?.videoId)
      expect(row["share_link_url"]).toBe(results[i]?.shareLinkUrl)
      expect(Number(row["duration_seconds"])).toBe(results[i]?.durationSeconds)
      expect(Number(row["estimated_cost_usd"])).toBe(0.9)
      expect(row["attempts"]).toBe("1")
    }

    const json = await runCli(["results", "campaign.yaml", "--format", "json"], { cwd: p.root })
    expect(json.code, json.stderr).toBe(0)
    expect(decodeResults(JSON.parse(json.stdout))).toEqual(results)
    const jsonl = await runCli(["results", "campaign.yaml", "--format", "jsonl"], { cwd: p.root })
    expect(jsonl.code, jsonl.stderr).toBe(0)
    expect(
      decodeResults(
        jsonl.stdout
          .trimEnd()
          .split("\n")
          .map((line) => JSON.parse(line))
      )
    ).toEqual(results)
  }, 60_000)

  it("an output deleted since its run is missing, and so is one changed since; the others stay done", async () => {
    const p = tempProject()
    const file = writeCampaign(p)
    await runOnSim(file)
    const before = await pipelineResultsPromise(file)
    rmSync(join(p.root, "renders", "people", "p2.mp4"))
    writeFileSync(join(p.root, "renders", "hero.mp4"), "edited by hand")

    const results = await pipelineResultsPromise(file)
    expect(results.map((r) => [r.output, r.state])).toEqual([
      ["renders/people/p1.mp4", "done"],
      ["renders/people/p2.mp4", "missing"],
      ["renders/people/p3.mp4", "done"],
      ["renders/hero.mp4", "missing"]
    ])
    // The video it was rendered as is still named: the next run downloads it again, no new render.
    expect(results[1]?.videoId).toBe(before[1]?.videoId)
    expect(results[1]?.shareLinkUrl).toBe(before[1]?.shareLinkUrl)

    const cli = await runCli(["results", "campaign.yaml"], { cwd: p.root })
    expect(readCsv(cli.stdout).rows.map((r) => r["state"])).toEqual(["done", "missing", "done", "missing"])
  }, 60_000)

  it("a render the provider ended FAILED: state failed, with the step, the provider's message and its code", async () => {
    const p = tempProject()
    const file = writeCampaign(p)
    const { summary } = await runOnSim(file, { failRate: 1, failCodes: ["generation_failed"] })
    expect(summary.failed).toHaveLength(4)

    const results = await pipelineResultsPromise(file)
    for (const result of results) {
      expect(result.state).toBe("failed")
      expect(result.error).toMatchObject({ step: "poll", code: "generation_failed" })
      expect(result.error?.reason).not.toBe("")
      expect(result.attempts).toBe(1)
      expect(result.shareLinkUrl).toBeUndefined()
    }
    const table = readCsv((await runCli(["results", "campaign.yaml"], { cwd: p.root })).stdout)
    expect(table.rows[0]).toMatchObject({ state: "failed", error_step: "poll", error_code: "generation_failed" })
    expect(table.rows[0]?.["error"]).toBe(results[0]?.error?.reason)
  }, 60_000)
})

describe("pipelineResults with a selection", () => {
  it("the selected jobs' results only, in plan order; a selector that matches nothing is refused, naming it", async () => {
    const p = tempProject()
    const file = writeCampaign(p)
    const hero = await pipelineResultsPromise(file, { select: { sets: ["hero"] } })
    expect(hero.map((r) => r.output)).toEqual(["renders/hero.mp4"])
    const first = await pipelineResultsPromise(file, { select: { only: ["renders/people/*.mp4"], limit: 2 } })
    expect(first.map((r) => r.output)).toEqual(["renders/people/p1.mp4", "renders/people/p2.mp4"])
    // Nothing failed yet: --retry-failed selects nothing, and says so by an empty table.
    expect(await pipelineResultsPromise(file, { select: { retryFailed: true } })).toEqual([])
    const refused = await pipelineResultsPromise(file, { select: { sets: ["heros"] } }).catch((e: unknown) => e)
    expect(refused).toMatchObject({ _tag: "SelectionInvalid" })
    expect(String((refused as Error).message)).toContain(`--set heros: no set of that name has jobs`)
    expect(String((refused as Error).message)).toContain(`did you mean "hero"?`)
  }, 60_000)

  it("--retry-failed keeps the jobs whose last attempt failed", async () => {
    const p = tempProject()
    const file = writeCampaign(p)
    await runOnSim(file, { failRate: 1, failCodes: ["generation_failed"] })
    const failed = await pipelineResultsPromise(file, { select: { retryFailed: true, sets: ["people"] } })
    expect(failed.map((r) => [r.output, r.state])).toEqual([
      ["renders/people/p1.mp4", "failed"],
      ["renders/people/p2.mp4", "failed"],
      ["renders/people/p3.mp4", "failed"]
    ])
  }, 60_000)
})

describe("clapper results --output and --format", () => {
  it("--output: written whole (no temporary file left), in the format its extension names", async () => {
    const p = tempProject()
    writeCampaign(p)
    const result = await runCli(["results", "campaign.yaml", "--output", "reports/results.json"], { cwd: p.root })
    expect(result).toMatchObject({ code: 0, stdout: "4 results (json) written to reports/results.json\n" })
    expect(decodeResults(JSON.parse(readFileSync(join(p.root, "reports", "results.json"), "utf8")))).toHaveLength(4)
    expect(readdirSync(join(p.root, "reports"))).toEqual(["results.json"])
    // An explicit --format wins over the extension.
    const csv = await runCli(["results", "campaign.yaml", "--output", "reports/results.json", "--format", "csv"], { cwd: p.root })
    expect(csv.code).toBe(0)
    expect(readCsv(readFileSync(join(p.root, "reports", "results.json"), "utf8")).header).toEqual(header)
  }, 60_000)

  it("--output inside a folder the outputs go to, or over the data file or the pipeline: exit 2, saying why and what to do, nothing written", async () => {
    const p = tempProject()
    writeCampaign(p)
    const before = p.snapshot()
    const inRenders = await runCli(["results", "campaign.yaml", "--output", "renders/people/results.csv"], { cwd: p.root })
    expect(inRenders.code).toBe(2)
    expect(inRenders.stderr.trim()).toBe(
      `clapper: results path "renders/people/results.csv" is inside renders/people/, a folder the pipeline's outputs go to: a results file there could be taken for an output, or replaced by one. Write it outside the outputs' folders, e.g. beside the pipeline file.`
    )
    // renders/ itself holds an output (renders/hero.mp4).
    const inRendersRoot = await runCli(["results", "campaign.yaml", "--output", "renders/results.csv"], { cwd: p.root })
    expect(inRendersRoot.code).toBe(2)
    expect(inRendersRoot.stderr).toContain("is inside renders/, a folder the pipeline's outputs go to")
    const overData = await runCli(["results", "campaign.yaml", "--output", "data/people.csv"], { cwd: p.root })
    expect(overData.code).toBe(2)
    expect(overData.stderr).toContain(`results path "data/people.csv" is the data file of set "people": a results file may never replace`)
    const overPipeline = await runCli(["results", "campaign.yaml", "--output", "campaign.yaml"], { cwd: p.root })
    expect(overPipeline.code).toBe(2)
    expect(overPipeline.stderr).toContain(`results path "campaign.yaml" is the pipeline file`)
    expect(p.snapshot()).toEqual(before)
  }, 60_000)

  it("an unknown --format: exit 2, naming the formats", async () => {
    const p = tempProject()
    writeCampaign(p)
    const result = await runCli(["results", "campaign.yaml", "--format", "xlsx"], { cwd: p.root })
    expect(result.code).toBe(2)
    expect(result.stdout).toBe("")
    expect(result.stderr).toContain("csv, json, jsonl")
  }, 60_000)
})

describe("the pipeline's results option", () => {
  const provide = <A, E>(effect: Effect.Effect<A, E, NodeContext.NodeContext>) =>
    Effect.runPromise(Effect.provide(effect, NodeContext.layer))

  it("a path inside a folder of outputs is a problem at its line, before anything is sent", async () => {
    const p = tempProject()
    const file = writeCampaign(p, "results: { path: renders/people/results.csv }\n")
    const diagnostics = await provide(
      Effect.gen(function* () {
        const pipeline = yield* loadPipeline(file)
        return yield* resultsOptionDiagnostics(pipeline, yield* expandPipeline(pipeline))
      })
    )
    expect(diagnostics).toEqual([
      expect.objectContaining({
        line: 3,
        column: 18,
        message: expect.stringMatching(
          /^results path "renders\/people\/results\.csv" is inside renders\/people\/, a folder the pipeline's outputs go to/
        )
      })
    ])
  })

  it("validate and run refuse it too, naming the line, and run sends nothing", async () => {
    const p = tempProject()
    const file = writeCampaign(p, "results: { path: renders/people/results.csv }\n")
    const before = p.snapshot()
    const validate = await runCli(["validate", file], { cwd: p.root })
    expect(validate.code).toBe(2)
    expect(validate.stderr).toMatch(/:3:18: results path "renders\/people\/results\.csv" is inside renders\/people\//)
    const run = await runCli(["run", file, "--base-url", "http://127.0.0.1:9", ...roomyQuotaFlags], {
      cwd: p.root,
      env: { MIRAGE_API_KEY: "k" }
    })
    expect(run.code).toBe(2)
    expect(run.stderr).toMatch(/:3:18: results path "renders\/people\/results\.csv" is inside renders\/people\//)
    expect(p.snapshot()).toEqual(before)
  })

  it("writeResultsAfterRun: the table where the option says, in its format, from the state the run left", async () => {
    const p = tempProject()
    const file = writeCampaign(p, "results: { path: out/results.jsonl }\n")
    await runOnSim(file)
    const written = await provide(
      Effect.gen(function* () {
        const pipeline = yield* loadPipeline(file)
        const plan = yield* planPipeline(pipeline)
        const stored = yield* (yield* currentStateStore).read({ name: pipeline.spec.name, file: pipeline.path })
        return yield* writeResultsAfterRun(pipeline, plan, stored)
      })
    )
    expect(written).toBe(join(p.root, "out", "results.jsonl"))
    const lines = readFileSync(join(p.root, "out", "results.jsonl"), "utf8")
      .trimEnd()
      .split("\n")
    expect(decodeResults(lines.map((line) => JSON.parse(line)))).toEqual(await provide(pipelineResults(file)))
    expect(lines.map((line) => JSON.parse(line).state)).toEqual(["done", "done", "done", "done"])
  }, 60_000)

  it("without the option, nothing is written", async () => {
    const p = tempProject()
    const file = writeCampaign(p)
    const written = await provide(
      Effect.gen(function* () {
        const pipeline = yield* loadPipeline(file)
        const plan = yield* planPipeline(pipeline)
        const stored = yield* (yield* currentStateStore).read({ name: pipeline.spec.name, file: pipeline.path })
        return yield* writeResultsAfterRun(pipeline, plan, stored)
      })
    )
    expect(written).toBeUndefined()
    expect(existsSync(join(p.root, "results.csv"))).toBe(false)
  })
})

describe("clapper run --sim, then clapper results (the real binary end to end)", () => {
  it("the built-in simulator's share links reach the table", async () => {
    const p = tempProject()
    writeCampaign(p)
    const run = await runCli(["run", "campaign.yaml", "--sim", "--json", ...roomyQuotaFlags], { cwd: p.root })
    expect(run.code, run.stderr).toBe(0)
    const table = readCsv((await runCli(["results", "campaign.yaml"], { cwd: p.root })).stdout)
    for (const row of table.rows) {
      expect(row["state"]).toBe("done")
      expect(row["share_link_url"]).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:\\d+/share/${row["video_id"]}$`))
    }
  }, 60_000)
})
