/**
 * Two small promises: a timeout of zero is refused before anything runs (exit 2, at its line),
 * and a runner killed with SIGKILL, at any moment (also while it writes its runner lock), leaves
 * no temporary lock file behind once the next run is done.
 */
import { existsSync, mkdirSync, readdirSync, rmSync, watch, writeFileSync } from "node:fs"
import { hostname } from "node:os"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import {
  admittedDuplicates,
  apiRequests,
  type Campaign,
  campaign,
  clapper,
  expectExit,
  expectOutputsAreMp4,
  isMp4,
  journal,
  onSimulator,
  rendersOf
} from "./support.ts"

describe("durations of zero are refused by validate", () => {
  const zeros = [
    ["run.timeout", "  timeout: 0s"],
    ["run.timeout in milliseconds", "  timeout: 0ms"],
    ["run.timeout written 0.0s", "  timeout: 0.0s"],
    ["run.poll.interval", "  poll: { interval: 0s }"],
    ["run.retry.patience", "  retry: { patience: 0m }"]
  ] as const

  it(`each of ${zeros.map(([what]) => what).join(", ")}: exit 2, at its line`, async () => {
    const c = campaign(["out/v0.mp4"])
    const files = zeros.map(([, line], i) =>
      c.p.write(
        `zero${i}.yaml`,
        [
          "version: 1",
          `name: zero${i}`,
          "run:",
          line,
          "sets:",
          "  all:",
          "    pairs:",
          "      - { image: assets/presenters/alice.png, audio: voice/v0.wav, output: out/v0.mp4 }",
          ""
        ].join("\n")
      )
    )
    const before = c.p.snapshot()
    // One command, every file: each is reported on its own.
    const validated = await clapper(["validate", "campaign.yaml", ...files.map((_, i) => `zero${i}.yaml`)], { cwd: c.root })
    expectExit(validated, 2)
    const said = validated.stdout + validated.stderr
    expect(said).toMatch(/campaign\.yaml: ok/)
    zeros.forEach(([what], i) => expect(said, what).toMatch(new RegExp(`zero${i}\\.yaml:4:\\d+: .*above 0`)))
    expect(c.p.snapshot()).toEqual(before)
  })

  it("a run with timeout: 0s exits 2 and sends nothing", async () => {
    const { sim, run } = await onSimulator(["out/v0.mp4"], { policy: { timeout: "0s" } })
    const refused = await run({ json: false })
    expectExit(refused, 2)
    expect(refused.stderr).toMatch(/timeout.*above 0|above 0.*timeout|campaign\.yaml:\d+:\d+/)
    expect(apiRequests(await sim.stats())).toBe(0)
  })
})

const temporaryLocks = (c: Campaign) =>
  existsSync(c.stateDir) ? readdirSync(c.stateDir).filter((name) => /^runner\.lock.*\.tmp$/.test(name)) : []

describe("a SIGKILL never leaves a temporary runner lock behind the next run", () => {
  it("killed mid-run, and killed while the runner lock is being written: the next run completes and leaves no runner.lock.*.tmp", async () => {
    const { c, sim, run } = await onSimulator(["out/v0.mp4", "out/v1.mp4", "out/v2.mp4"], { sim: { renderFactor: 0.5 } })
    mkdirSync(c.stateDir, { recursive: true })

    // Killed in the middle of the campaign.
    const midRun = await run({ onEvent: (event, signal) => event.type === "job.submitted" && signal("SIGKILL") })
    expect(midRun.signal).toBe("SIGKILL")

    // Killed the moment a temporary lock file appears: the runner is between writing its lock
    // and linking it into place (a few tries: the window is short).
    for (let attempt = 0; attempt < 6 && temporaryLocks(c).length === 0; attempt++) {
      let stop: ((s: NodeJS.Signals) => void) | undefined
      const watcher = watch(c.stateDir, (_, name) => {
        if (name !== null && /^runner\.lock.*\.tmp$/.test(name)) stop?.("SIGKILL")
      })
      try {
        await run({ onSpawn: (signal) => void (stop = signal) })
      } finally {
        watcher.close()
      }
    }
    const leftByKills = temporaryLocks(c)

    const final = await run()
    expectExit(final, 0)
    expect(temporaryLocks(c), `left by the killed runners: ${leftByKills.join(", ") || "none"}`).toEqual([])
    expect(existsSync(join(c.stateDir, "runner.lock"))).toBe(false)
    // And the kills cost nothing twice.
    const stats = await sim.stats()
    const entries = journal(c)
    for (const job of rendersOf(c)) {
      expect(stats.submissions[job.key] ?? 0, job.id).toBeLessThanOrEqual(1 + admittedDuplicates(entries, job.id))
      expect(isMp4(join(c.root, job.id)), job.id).toBe(true)
    }
  }, 60_000)
})

describe("run --wait on the file store", () => {
  it("waits while a live process holds the runner lock, then runs as soon as the lock is gone", async () => {
    const { c, run } = await onSimulator(["out/v0.mp4"])
    mkdirSync(c.stateDir, { recursive: true })
    const lockFile = join(c.stateDir, "runner.lock")
    // Held by this test's own process: alive, on this host.
    writeFileSync(
      lockFile,
      JSON.stringify({
        version: 1,
        pid: process.pid,
        host: hostname(),
        startedAt: new Date().toISOString(),
        command: "clapper run campaign.yaml"
      })
    )
    let waited = ""
    const result = await run({
      args: ["--wait"],
      onEvent: (event) => {
        if (event.type === "run.warning" && waited === "") {
          waited = event.message ?? ""
          // Only now, with the run waiting, does the holder go.
          expect(existsSync(join(c.root, "out/v0.mp4"))).toBe(false)
          rmSync(lockFile)
        }
      }
    })
    expectExit(result, 0)
    expect(waited).toMatch(new RegExp(`is being run by pid ${process.pid} on .*: waiting to take over when it ends`))
    expectOutputsAreMp4(c)
  })
})
