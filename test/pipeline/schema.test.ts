import { readFileSync, readdirSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { pipelineJsonSchema } from "../../src/index.ts"
import { repoRoot } from "../support/tempProject.ts"

describe("the pipeline JSON Schema", () => {
  it("committed in schemas/ is the one clapper generates (run `npm run docs:write` after changing the schema)", () => {
    expect(readFileSync(join(repoRoot, "schemas", "pipeline.schema.json"), "utf8")).toBe(`${pipelineJsonSchema()}\n`)
  })

  it("describes every property, so editors and the README can explain each field", () => {
    const undocumented: Array<string> = []
    const walk = (node: unknown, path: string) => {
      if (node === null || typeof node !== "object") return
      const record = node as Record<string, unknown>
      const properties = record["properties"]
      if (properties && typeof properties === "object") {
        for (const [key, value] of Object.entries(properties)) {
          const v = value as Record<string, unknown>
          if (typeof v["description"] !== "string") undocumented.push(`${path}.${key}`)
        }
      }
      for (const [key, value] of Object.entries(record)) walk(value, `${path}.${key}`)
    }
    walk(JSON.parse(pipelineJsonSchema()), "$")
    expect(undocumented).toEqual([])
  })

  it("is named by the modeline of every pipeline in pipelines/", () => {
    const dir = join(repoRoot, "pipelines")
    for (const name of readdirSync(dir).filter((n) => n.endsWith(".yaml"))) {
      expect(readFileSync(join(dir, name), "utf8").split("\n")[0]).toBe("# yaml-language-server: $schema=../schemas/pipeline.schema.json")
    }
  })
})

describe("the JSON Schema of the run's timing and the provider's limits", () => {
  const defs = () => JSON.parse(pipelineJsonSchema()).$defs.ClapperPipeline.properties
  const matches = (node: { pattern: string }, text: string) => new RegExp(node.pattern).test(text)

  it("has provider.limits with every kind of request, each a rate its pattern checks as clapper does", async () => {
    const { parseRate, requestKinds } = await import("../../src/mirage/quotas.ts")
    const limits = defs().provider.properties.limits
    expect(Object.keys(limits.properties)).toEqual([...requestKinds])
    expect(limits.additionalProperties).toBe(false)
    for (const text of ["2/min", "100/minute", "5/s", "1/30s", "300/h", "0.5/s", "fast", "2 per minute", "2/week", "/min"]) {
      expect([text, matches(limits.properties.generation, text)]).toEqual([text, parseRate(text) !== undefined])
    }
  })

  it("refuses 0 where a duration must be above 0, and allows it for the retry delays", () => {
    const run = defs().run.properties
    for (const node of [run.timeout, run.poll.properties.interval, run.poll.properties.maxInterval, run.retry.properties.patience]) {
      expect(["0s", "0.0ms", "00m", "0.5s", "10m", "1h"].map((text) => matches(node, text))).toEqual([
        false,
        false,
        false,
        true,
        true,
        true
      ])
    }
    for (const node of [run.retry.properties.initialDelay, run.retry.properties.maxDelay]) {
      expect(["0s", "250ms", "soon"].map((text) => matches(node, text))).toEqual([true, true, false])
    }
  })
})

describe("the README's field reference", () => {
  it("is the one generated from the schema (run `npm run docs:write`)", async () => {
    const { pipelineFieldReference } = await import("../../src/pipeline/fieldReference.ts")
    const readme = readFileSync(join(repoRoot, "README.md"), "utf8")
    expect(readme).toContain(`<!-- fields:start -->\n${pipelineFieldReference()}\n<!-- fields:end -->`)
  })
})

describe("the README's NDJSON event table", () => {
  it("is the one `clapper run --json` documents (run `npm run docs:write`)", async () => {
    const { ndjsonDocs } = await import("../../src/cli/progress/ndjson.ts")
    const readme = readFileSync(join(repoRoot, "README.md"), "utf8")
    expect(readme).toContain(`<!-- events:start -->\n${ndjsonDocs.trimEnd()}\n<!-- events:end -->`)
  })
})
