/**
 * `clapper log`: every `clapper run` leaves its record in the state, and `log` lists them (the
 * real binary against a simulator), however the run ended: finished, failed jobs, refused,
 * interrupted, killed.
 */
import { readFileSync, writeFileSync } from "node:fs"
import { hostname } from "node:os"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import type { RunRecord } from "../../src/state/runHistory.ts"
import { roomyQuotaFlags, watchCliRun } from "../support/runCli.ts"
import { tempProject } from "../support/tempProject.ts"
import { clapper, renderCostUsd, startTestSim, writeCampaign } from "../selection/support.ts"

const runFile = (root: string, n: number) => join(root, ".clapper", "campaign", "runs", `${n}.ndjson`)

const logJson = async (p: ReturnType<typeof tempProject>) => {
  const result = await clapper(p, ["log", "campaign.yaml", "--json"])
  expect(result.code, result.stderr).toBe(0)
  return JSON.parse(result.stdout) as { pipeline: { name: string }; runs: ReadonlyArray<RunRecord>; warnings: ReadonlyArray<string> }
}

describe("clapper log", () => {
  it("a pipeline never run: says so, exit 0", async () => {
    const p = tempProject()
    writeCampaign(p)
    const result = await clapper(p, ["log", "campaign.yaml"])
    expect(result.code, result.stderr).toBe(0)
    expect(result.stdout).toContain("campaign (campaign.yaml) has not been run yet: no run is recorded.")
    expect((await logJson(p)).runs).toEqual([])
  }, 30_000)

  it("lists each run, oldest first: who, where, the command as typed, jobs done and failed, spend, how it ended", async () => {
    const p = tempProject()
    writeCampaign(p)
    const sim = await startTestSim()
    const failing = await startTestSim({ failRate: 1, failCodes: ["generation_failed"] })
    expect((await clapper(p, ["run", "campaign.yaml", "--set", "hero"], sim)).code).toBe(0)
    expect((await clapper(p, ["run", "campaign.yaml", "--set", "people", "--limit", "2"], failing)).code).toBe(1)
    expect((await clapper(p, ["run", "campaign.yaml", "--budget", "0.5"], sim)).code).toBe(2)

    const { runs } = await logJson(p)
    expect(runs.map((r) => [r.n, r.outcome, r.exitCode, r.completed, r.failed])).toEqual([
      [1, "finished", 0, 2, 0],
      [2, "finished", 1, 0, 2],
      [3, "refused", 2, 0, 0]
    ])
    const [first, second, third] = runs
    expect(first?.command).toEqual(["clapper", "run", "campaign.yaml", "--set", "hero", "--base-url", sim.baseUrl, ...roomyQuotaFlags])
    expect(first?.selection).toEqual({ sets: ["hero"] })
    expect(second?.selection).toEqual({ sets: ["people"], limit: 2 })
    expect(first).toMatchObject({ host: hostname(), spentUsd: 2 * renderCostUsd })
    expect(first?.pid).toBeGreaterThan(0)
    expect(first?.clapperVersion).toMatch(/^\d+\.\d+\.\d+/)
    expect(Date.parse(first?.finishedAt ?? "")).toBeGreaterThanOrEqual(Date.parse(first?.startedAt ?? ""))
    expect(third?.message).toContain("over the budget of $0.50")

    const table = await clapper(p, ["log", "campaign.yaml"])
    expect(table.code, table.stderr).toBe(0)
    const lines = table.stdout.trimEnd().split("\n")
    expect(lines[0]).toBe("campaign (campaign.yaml): 3 runs")
    expect(lines[2]).toMatch(/^RUN\s+STARTED\s+TOOK\s+BY\s+JOBS\s+SPENT\s+END\s+COMMAND$/)
    expect(lines[3]).toMatch(/^1\s.*2 done, 0 failed\s+~\$1\.80\s+finished, exit 0\s+clapper run campaign\.yaml --set hero --base-url/)
    expect(lines[4]).toMatch(/^2\s.*0 done, 2 failed\s+~\$1\.80\s+finished, exit 1\s+clapper run campaign\.yaml --set people --limit 2/)
    expect(lines[5]).toMatch(/^3\s.*refused, exit 2\s+clapper run campaign\.yaml --budget 0\.5/)
    expect(lines[6]).toMatch(/^run 3: the estimated cost of what is left to do, \$\d+\.\d\d, is over the budget of \$0\.50/)
  }, 90_000)

  it("an interrupted run (Ctrl-C) and a killed one (SIGKILL: no end line) are told apart", async () => {
    const p = tempProject()
    writeCampaign(p)
    // Renders take a while, so the runs are still polling when they are stopped.
    const sim = await startTestSim({ renderFactor: 60 })
    const args = ["run", "campaign.yaml", "--set", "hero", "--json", "--base-url", sim.baseUrl, ...roomyQuotaFlags]
    // Stopped 1.5 s after the first status check (the second run resumes polling the first's videos).
    const stopAt = (s: NodeJS.Signals) => {
      let stopping = false
      return watchCliRun(args, {
        cwd: p.root,
        env: { MIRAGE_API_KEY: "history-test-key" },
        onEvent: (event, signal) => {
          if (event.type !== "job.progress" || stopping) return
          stopping = true
          setTimeout(() => signal(s), 1500)
        }
      })
    }
    expect(await stopAt("SIGINT")).toBe(130)
    expect(await stopAt("SIGKILL")).toBe(null)
    const { runs } = await logJson(p)
    expect(runs.map((r) => [r.n, r.outcome, r.exitCode])).toEqual([
      [1, "interrupted", 130],
      [2, "killed", undefined]
    ])
    // The killed run's events reached the file within a second of being emitted.
    const killed = readFileSync(runFile(p.root, 2), "utf8")
    expect(killed.split("\n").some((l) => l.includes('"type":"job.progress"'))).toBe(true)
    const table = await clapper(p, ["log", "campaign.yaml"])
    expect(table.stdout).toMatch(/\n2\s.*0 done, 0 failed\s+\?\s+killed \(no end recorded\)/)
  }, 60_000)

  it("a torn last line is left out with a warning; a damaged header is exit 2 naming the file and line", async () => {
    const p = tempProject()
    writeCampaign(p)
    const sim = await startTestSim()
    expect((await clapper(p, ["run", "campaign.yaml", "--set", "hero"], sim)).code).toBe(0)
    const file = runFile(p.root, 1)
    const whole = readFileSync(file, "utf8")
    // Killed mid-write: the end line is cut short.
    writeFileSync(file, whole.slice(0, whole.lastIndexOf('{"t":"end"') + 20))
    const torn = await clapper(p, ["log", "campaign.yaml"])
    expect(torn.code, torn.stderr).toBe(0)
    expect(torn.stderr).toMatch(/warning: .*runs\/1\.ndjson:\d+: the last line was cut short/)
    expect(torn.stdout).toContain("killed (no end recorded)")

    // Damage that no crash makes: a header that is not one.
    writeFileSync(file, whole.replace('"t":"run"', '"t":"runn"'))
    const damaged = await clapper(p, ["log", "campaign.yaml"])
    expect(damaged.code).toBe(2)
    expect(damaged.stderr).toMatch(/clapper: .*\.clapper\/campaign\/runs\/1\.ndjson:1: a run file starts with its header/)
  }, 30_000)
})
