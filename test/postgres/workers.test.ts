/**
 * Several workers on one campaign (`clapper worker --state postgres://…`), as real processes
 * against one simulator and a real PostgreSQL server: each render is done once whoever does it,
 * the key's quota holds across them, a worker killed mid-campaign hands its renders to the
 * others, and the lock file is the one a single runner writes. The simulator's counters are the witness.
 */
import { readFileSync, rmSync, cpSync } from "node:fs"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { freePort, startPostgres, type TestPostgres } from "../support/postgres.ts"
import { roomyQuotas } from "../support/testQuotas.ts"
import { clapper, type CliResult, expectEachPaidOnce, expectExit, expectOutputsAreMp4, onSimulator, posts } from "../failures/support.ts"

let server: TestPostgres

beforeAll(async () => {
  server = await startPostgres()
}, 60_000)

afterAll(async () => {
  await server?.dispose()
})

const workerArgs = async (baseUrl: string, url: string) => [
  "worker",
  "campaign.yaml",
  "--base-url",
  baseUrl,
  "--quota",
  "all=1000000/min",
  "--quota",
  "generation=40/min",
  "--json",
  "--state",
  url,
  "--address",
  `127.0.0.1:${await freePort()}`
]

describe("workers on one campaign", () => {
  it("render every video once within the shared quota, and go on without a worker killed mid-campaign", async () => {
    const url = await server.database("workers")
    const outputs = Array.from({ length: 9 }, (_, i) => `out/w${i}.mp4`)
    // The provider allows 40 generations a minute; renders take a few seconds: the kill lands with renders in flight.
    const scene = await onSimulator(outputs, {
      sim: { renderFactor: 12, quotas: { ...roomyQuotas, generation: { count: 40, perMs: 60_000 } } }
    })
    let killedAt: number | undefined
    const runs: Array<Promise<CliResult>> = []
    for (let i = 0; i < 3; i++) {
      runs.push(
        clapper(await workerArgs(scene.sim.baseUrl, url), {
          cwd: scene.c.root,
          // The first worker is killed once every render is submitted, with renders of its own still in flight.
          ...(i === 0
            ? {
                onSpawn: (signal) => {
                  const watch = setInterval(async () => {
                    if (posts(await scene.sim.stats()) < outputs.length) return
                    clearInterval(watch)
                    killedAt = Date.now()
                    signal("SIGKILL")
                  }, 100)
                }
              }
            : {})
        })
      )
    }
    const [killed, ...others] = await Promise.all(runs)
    expect(killed?.signal).toBe("SIGKILL")
    expect(killedAt).toBeDefined()
    for (const other of others) {
      expectExit(other, 0)
      // Each survivor's summary is the whole campaign's.
      expect(other.summary?.completed.length).toBe(outputs.length)
    }
    expectOutputsAreMp4(scene.c)
    const stats = await scene.sim.stats()
    expectEachPaidOnce(scene.c, stats)
    expect(stats.refused["POST /v1/videos"] ?? 0).toBe(0)

    // The lock file the workers wrote is the one any checkout exports from the database.
    const lock = readFileSync(join(scene.c.root, "campaign.lock.json"))
    const elsewhere = `${scene.c.root}-elsewhere`
    cpSync(scene.c.root, elsewhere, { recursive: true })
    rmSync(join(elsewhere, "campaign.lock.json"))
    expectExit(await clapper(["lock", "campaign.yaml", "--state", url], { cwd: elsewhere }), 0)
    expect(readFileSync(join(elsewhere, "campaign.lock.json")).equals(lock)).toBe(true)
    expect(Object.keys(JSON.parse(lock.toString()).outputs).sort()).toEqual([...outputs].sort())
    rmSync(elsewhere, { recursive: true, force: true })
  }, 120_000)
})
