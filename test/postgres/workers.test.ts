/**
 * Several workers on one campaign (`clapper worker --state postgres://…`), as real processes
 * against one simulator and a real PostgreSQL server: each render is done once whoever does it,
 * the key's quota holds across them, a worker killed mid-campaign hands its renders to the
 * others, and the lock file is the one a single runner writes. The simulator's counters are the witness.
 */
import { readFileSync, rmSync, cpSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { postgresForFile } from "../support/postgresForFile.ts"
import { freePort } from "../support/postgres.ts"
import { roomyQuotas } from "../support/testQuotas.ts"
import {
  apiRequests,
  clapper,
  type CliResult,
  expectEachPaidOnce,
  expectExit,
  expectOutputsAreMp4,
  onlyErrorLine,
  onSimulator,
  posts
} from "../failures/support.ts"

const server = postgresForFile()

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
    if (killedAt === undefined)
      for (const r of [killed!, ...others])
        console.log(
          "DIAG",
          r.code,
          r.signal,
          r.stderr.slice(0, 1500),
          r.events
            .map((e) => `${e.type}:${(e as { job?: string }).job ?? ""}`)
            .filter((t) => !t.startsWith("job.progress") && !t.startsWith("job.queued"))
            .join(" ")
        )
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

describe("a worker's faults", () => {
  it("refuses a campaign whose state is in this machine's files, before anything is sent", async () => {
    const scene = await onSimulator(["out/a.mp4"])
    const refused = await clapper(["worker", "campaign.yaml", "--base-url", scene.sim.baseUrl, "--quota", "all=1000000/min"], {
      cwd: scene.c.root
    })
    expectExit(refused, 2)
    expect(onlyErrorLine(refused)).toMatch(
      /this worker cannot start: the campaign's state is in this machine's files.*--state postgres:\/\//
    )
    expect(apiRequests(await scene.sim.stats())).toBe(0)
  })

  it("refuses an address that is not HOST[:PORT]", async () => {
    const scene = await onSimulator(["out/a.mp4"])
    const refused = await clapper(["worker", "campaign.yaml", "--address", "10.0.0.5:99999", "--state", server.url("postgres")], {
      cwd: scene.c.root
    })
    expectExit(refused, 2)
    expect(onlyErrorLine(refused)).toMatch(/--address 10\.0\.0\.5:99999 is not HOST\[:PORT\]/)
  })

  it("keeps workers and a run alone apart: each is refused while the other holds the campaign", async () => {
    const url = await server.database("apart")
    const scene = await onSimulator(["out/a.mp4", "out/b.mp4"], { policy: { concurrency: 1 }, sim: { renderFactor: 8 } })
    let alone: Promise<CliResult> | undefined
    let status: Promise<CliResult> | undefined
    const worker = await clapper(await workerArgs(scene.sim.baseUrl, url), {
      cwd: scene.c.root,
      onEvent: (event) => {
        if (event.type === "job.submitted" && alone === undefined) {
          alone = clapper(["run", "campaign.yaml", "--base-url", scene.sim.baseUrl, "--quota", "all=1000000/min", "--state", url], {
            cwd: scene.c.root
          })
          status = clapper(["status", "campaign.yaml", "--state", url], { cwd: scene.c.root })
        }
      }
    })
    expectExit(worker, 0)
    const refusedRun = await alone!
    expectExit(refusedRun, 2)
    expect(onlyErrorLine(refusedRun)).toMatch(/campaign\.yaml is being worked by workers \(clapper worker\): join them/)
    // Any machine's status says who works the campaign.
    expect((await status!).stdout).toContain("Worked now by 1 worker (clapper worker)")

    const more = await onSimulator(["out/c.mp4", "out/d.mp4"], { policy: { concurrency: 1 }, sim: { renderFactor: 8 } })
    const moreUrl = await server.database("apart2")
    let joining: Promise<CliResult> | undefined
    const run = await more.run({
      args: ["--state", moreUrl],
      onEvent: (event) => {
        if (event.type === "job.submitted" && joining === undefined)
          joining = workerArgs(more.sim.baseUrl, moreUrl).then((args) =>
            clapper(
              args.filter((a) => a !== "--json"),
              { cwd: more.c.root }
            )
          )
      }
    })
    expectExit(run, 0)
    const refusedWorker = await joining!
    expectExit(refusedWorker, 2)
    expect(onlyErrorLine(refusedWorker)).toMatch(/campaign\.yaml is being run by pid \d+ on /)
    expectEachPaidOnce(scene.c, await scene.sim.stats())
    expectEachPaidOnce(more.c, await more.sim.stats())
  }, 60_000)

  it("stops at Ctrl-C with a render of its own in flight, and the other worker finishes it without paying twice", async () => {
    const url = await server.database("interrupted")
    const outputs = Array.from({ length: 6 }, (_, i) => `out/i${i}.mp4`)
    const scene = await onSimulator(outputs, { sim: { renderFactor: 12 } })
    let interrupted = false
    const first = clapper(await workerArgs(scene.sim.baseUrl, url), {
      cwd: scene.c.root,
      onEvent: (event, signal) => {
        if (event.type === "job.submitted" && !interrupted) {
          interrupted = true
          signal("SIGINT")
        }
      }
    })
    const second = clapper(await workerArgs(scene.sim.baseUrl, url), { cwd: scene.c.root })
    const stopped = await first
    expectExit(stopped, 130)
    const finished = await second
    expectExit(finished, 0)
    expect(finished.summary?.completed.length).toBe(outputs.length)
    expectOutputsAreMp4(scene.c)
    expectEachPaidOnce(scene.c, await scene.sim.stats())
  }, 90_000)
})

describe("workers while the database restarts", () => {
  it("wait it out and finish the campaign, paying for nothing twice", async () => {
    const url = await server.database("restart")
    const outputs = Array.from({ length: 4 }, (_, i) => `out/r${i}.mp4`)
    const scene = await onSimulator(outputs, { policy: { concurrency: 1 }, sim: { renderFactor: 12 } })
    let restarted: Promise<void> | undefined
    const run = (watch: boolean) =>
      workerArgs(scene.sim.baseUrl, url).then((args) =>
        clapper(args, {
          cwd: scene.c.root,
          ...(watch
            ? {
                onEvent: (event) => {
                  if (event.type === "job.submitted" && restarted === undefined)
                    restarted = server.stop().then(() => new Promise((r) => setTimeout(r, 3000)).then(() => server.start()))
                }
              }
            : {})
        })
      )
    const [a, b] = await Promise.all([run(true), run(false)])
    await restarted
    console.log(
      "DIAGR",
      JSON.stringify(
        a.events
          .filter((e) => e.type !== "job.progress" && e.type !== "job.queued")
          .map((e) => [e.type, (e as { job?: string }).job, e.message])
      ),
      b.events.filter((e) => e.type === "run.warning").map((e) => e.message)
    )
    expectExit(a, 0)
    // (The warnings "lost the connection … / back after N s" are asserted for a run alone in
    // postgresState.test.ts; a worker does not always give them: see the closing note of #16.)
    expect(a.stderr + b.stderr + a.stdout + b.stdout).not.toContain(server.password)
    expectExit(b, 0)
    expectOutputsAreMp4(scene.c)
    expectEachPaidOnce(scene.c, await scene.sim.stats())
  }, 120_000)
})
