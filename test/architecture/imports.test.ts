/**
 * Imports follow the flow: pipeline → plan → runtime → app (run a pipeline: load, plan, open
 * state, run, flush; its results) → report (the HTML report) → cli, with state/, mirage/ and media/ as leaves anyone may use, and the
 * simulator beside the client. A module importing against the flow fails here, naming the line.
 */
import { readdirSync, readFileSync, statSync } from "node:fs"
import { join, relative } from "node:path"
import { describe, expect, it } from "vitest"
import { repoRoot } from "../support/tempProject.ts"

/** What each folder of src/ may import, besides itself. */
const allowed: Readonly<Record<string, ReadonlyArray<string>>> = {
  media: [],
  mirage: ["media"],
  state: ["mirage", "media"],
  sim: ["mirage", "media"],
  pipeline: ["state", "mirage", "media"],
  plan: ["pipeline", "state", "mirage", "media"],
  runtime: ["plan", "pipeline", "state", "mirage", "media"],
  app: ["runtime", "plan", "pipeline", "state", "mirage", "media", "sim"],
  report: ["app", "runtime", "plan", "pipeline", "state", "mirage", "media"],
  cli: ["report", "app", "runtime", "plan", "pipeline", "state", "mirage", "media", "sim"]
}

/** Temporary re-exports at an old place, removed once nothing imports them (each says so). */
const shims = new Set<string>()

const src = join(repoRoot, "src")

const sources = (dir: string): ReadonlyArray<string> =>
  readdirSync(dir).flatMap((name) => {
    const full = join(dir, name)
    return statSync(full).isDirectory() ? sources(full) : name.endsWith(".ts") ? [full] : []
  })

/** `[line, folder imported]` for each relative import of a file under src/ that leaves its folder. */
const importsOf = (file: string): ReadonlyArray<readonly [number, string]> =>
  readFileSync(file, "utf8")
    .split("\n")
    .flatMap((line, index) => {
      // `import … from "…"`, `export … from "…"`, `import "…"`, and the last line of a multi-line import.
      const match = /(?:^\s*(?:import|export)\b[^"']*|^\s*\}\s*from\s*)["'](\.\.?\/[^"']+)["']/.exec(line)
      if (!match) return []
      const target = relative(src, join(file, "..", match[1]!))
      return [[index + 1, target.split("/")[0]!] as const]
    })

describe("module boundaries", () => {
  it("every import of src/ runs with the flow", () => {
    const against: Array<string> = []
    for (const file of sources(src)) {
      const path = relative(src, file)
      const folder = path.includes("/") ? path.split("/")[0]! : undefined
      // src/index.ts is the library's front door: it may re-export anything.
      if (folder === undefined || shims.has(path)) continue
      const may = allowed[folder]
      expect(may, `src/${folder}/ is not in the map of allowed imports`).toBeDefined()
      for (const [line, target] of importsOf(file)) {
        // Outside src/ (package.json for the version) is not a module of the flow.
        if (target === ".." || target === folder || may!.includes(target)) continue
        against.push(`src/${path}:${line} imports src/${target}/ (${folder} may import ${may!.join(", ") || "nothing"})`)
      }
    }
    expect(against).toEqual([])
  })

  it("reads the imports it checks (a parser that saw none would pass everything)", () => {
    const seen = importsOf(join(src, "app", "runPipeline.ts")).map(([, folder]) => folder)
    expect(seen).toEqual(expect.arrayContaining(["runtime", "plan", "pipeline", "state"]))
  })
})
