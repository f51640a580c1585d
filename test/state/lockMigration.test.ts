/**
 * A version 1 lock (pretty JSON, as earlier Clappers wrote it) through the real `clapper`: read
 * as it is, left alone by the commands that only read, and written as version 2 by the first run,
 * once: the run after that leaves its bytes untouched. Nothing is rendered again.
 */
import { readFileSync, statSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { tempProject } from "../support/tempProject.ts"
import { clapper, startTestSim, writeCampaign } from "../selection/support.ts"

const sortKeys = (_: string, v: unknown) =>
  v !== null && typeof v === "object" && !Array.isArray(v)
    ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
    : v

describe("a version 1 lock file", () => {
  it("is read as it is, and the first run writes it as version 2, once, rendering nothing again", async () => {
    const p = tempProject()
    writeCampaign(p)
    const sim = await startTestSim()
    const lockFile = join(p.root, "campaign.lock.json")
    expect((await clapper(p, ["run", "campaign.yaml"], sim)).code).toBe(0)
    const submitted = await sim.submissions()
    const version2 = readFileSync(lockFile, "utf8")
    const lock = JSON.parse(version2) as { version: number; pipeline: string; outputs: Record<string, unknown> }
    expect(version2.split("\n")).toEqual([
      `{"version":2,"pipeline":"campaign","outputs":{`,
      ...Object.keys(lock.outputs)
        .sort()
        .map((id, n, ids) => `${JSON.stringify(id)}:${JSON.stringify(lock.outputs[id], sortKeys)}${n < ids.length - 1 ? "," : ""}`),
      "}}",
      ""
    ])

    // The same lock as an earlier Clapper wrote it.
    const version1 = `${JSON.stringify({ outputs: lock.outputs, pipeline: "campaign", version: 1 }, sortKeys, 2)}\n`
    writeFileSync(lockFile, version1)
    const status = await clapper(p, ["status", "campaign.yaml", "--json"])
    expect(status.code).toBe(0)
    expect(JSON.parse(status.stdout)).toMatchObject({ totals: { states: { "up-to-date": 6 } } })
    expect(readFileSync(lockFile, "utf8")).toBe(version1)

    expect((await clapper(p, ["run", "campaign.yaml"], sim)).code).toBe(0)
    expect(await sim.submissions()).toBe(submitted)
    expect(readFileSync(lockFile, "utf8")).toBe(version2)

    const migrated = statSync(lockFile).mtimeMs
    expect((await clapper(p, ["run", "campaign.yaml"], sim)).code).toBe(0)
    expect(readFileSync(lockFile, "utf8")).toBe(version2)
    expect(statSync(lockFile).mtimeMs).toBe(migrated)

    // Edited by hand in the same layout (one entry's keys in another order): valid, read, and
    // written back as Clapper writes it by the next run, although nothing else changed.
    const lines = version2.split("\n")
    const reordered = lines.with(1, lines[1]!.replace(/^("[^"]+":)\{("costUsd":[^,]+),("durationSeconds":[^,]+),/, "$1{$3,$2,"))
    expect(reordered[1]).not.toBe(lines[1])
    writeFileSync(lockFile, reordered.join("\n"))
    expect((await clapper(p, ["run", "campaign.yaml"], sim)).code).toBe(0)
    expect(await sim.submissions()).toBe(submitted)
    expect(readFileSync(lockFile, "utf8")).toBe(version2)
  }, 120_000)
})
