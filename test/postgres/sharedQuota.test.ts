/**
 * A key's quota shared by runners on several machines through the state database: two runs of two
 * pipelines, as two processes with separate quota folders (two machines), on one key, against a
 * simulator enforcing the quota. On the database they stay within it together; on files (each
 * machine its own ledger) the same runs are refused, so the test of the mechanism can fail.
 */
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import pg from "pg"
import { describe, expect, it } from "vitest"
import { postgresForFile } from "../support/postgresForFile.ts"
import { clapper, expectExit, runBlock } from "../failures/support.ts"
import { startSim } from "../support/liveSimulator.ts"
import { campaign } from "../provider/support.ts"
import { tempProject } from "../support/tempProject.ts"
import { roomyQuotas } from "../support/testQuotas.ts"

const server = postgresForFile()

/** 3 generations per 6 s: a 2 s spacing, so the jitter of two busy processes stays far inside the runs' 2 % margin. */
const quotaFlags = ["--quota", "all=1000000/min", "--quota", "generation=3/6s"]

const twoMachines = async (state: string | undefined) => {
  const sim = await startSim({ quotas: { ...roomyQuotas, generation: { count: 3, perMs: 6000 } } })
  const project = tempProject()
  const extra = `${runBlock({ concurrency: 3, attempts: 6, initialDelay: "500ms", maxDelay: "2s" })}\n`
  campaign(3, { project, name: "alpha", salt: 1, extra })
  campaign(3, { project, name: "beta", salt: 2, extra })
  const run = (file: string) =>
    clapper(["run", file, "--base-url", sim.baseUrl, ...quotaFlags, "--json", ...(state ? ["--state", state] : [])], {
      cwd: project.root,
      // Each process its own quota folder: what two machines have.
      env: { CLAPPER_QUOTA_DIR: mkdtempSync(join(tmpdir(), "clapper-machine-")) }
    })
  const [a, b] = await Promise.all([run("alpha.yaml"), run("beta.yaml")])
  return { a, b, stats: await sim.stats() }
}

describe("a key's quota shared across machines", () => {
  it("through the state database: both runs complete and the provider refuses none of their generations", async () => {
    const url = await server.database("quota")
    const { a, b, stats } = await twoMachines(url)
    expectExit(a, 0)
    expectExit(b, 0)
    expect(stats.refused["POST /v1/videos"] ?? 0).toBe(0)
    expect(stats.requests["POST /v1/videos"]).toBe(6)
    const client = new pg.Client({ connectionString: url })
    await client.connect()
    try {
      // The slots are rows of the database (the key itself is in none).
      const rows = (await client.query<{ ledger: string }>("SELECT DISTINCT ledger FROM clapper_quota_slots")).rows
      expect(rows).toHaveLength(1)
      expect(rows[0]?.ledger).toMatch(/^[0-9a-f]{32}$/)
    } finally {
      await client.end()
    }
  }, 60_000)

  it("on files, each machine with its own ledger: the same runs are refused", async () => {
    const { stats } = await twoMachines(undefined)
    expect(stats.refused["POST /v1/videos"] ?? 0).toBeGreaterThan(0)
  }, 60_000)
})
