/**
 * `clapper run` of a chosen subset (`--only`, `--set`, `--limit`, `--retry-failed`) through the
 * real binary against a simulator: only the selected jobs are sent, the lock file keeps the
 * others, the budget counts only the selected, and a selector that cannot be used is exit 2
 * before anything is sent or written.
 */
import { existsSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { tempProject } from "../support/tempProject.ts"
import { campaignJobs, clapper, eventsOf, lockedOutputs, outputsOnDisk, renderCostUsd, startTestSim, writeCampaign } from "./support.ts"

describe("clapper run with selectors", () => {
  it("--set, then --only: only those are sent; the lock keeps the jobs of earlier runs; a plain run does the rest", async () => {
    const p = tempProject()
    writeCampaign(p)
    const sim = await startTestSim()

    const hero = await clapper(p, ["run", "campaign.yaml", "--set", "hero"], sim)
    expect(hero.code, hero.stderr).toBe(0)
    expect(outputsOnDisk(p)).toEqual(["out/hero/alice.mp4", "out/hero/bob.mp4"])
    expect(await sim.submissions()).toBe(2)

    const one = await clapper(p, ["run", "campaign.yaml", "--only", "out/people/p1.mp4", "--json"], sim)
    expect(one.code, one.stderr).toBe(0)
    expect(eventsOf(one).find((e) => e.type === "run.started")).toMatchObject({ jobs: 1, renders: 1, estimatedCostUsd: renderCostUsd })
    expect(lockedOutputs(p)).toEqual(["out/hero/alice.mp4", "out/hero/bob.mp4", "out/people/p1.mp4"])
    expect(await sim.submissions()).toBe(3)

    // The rest: p2 and p3 are rendered, the copy is made from hero/alice's file (no render).
    const rest = await clapper(p, ["run", "campaign.yaml"], sim)
    expect(rest.code, rest.stderr).toBe(0)
    expect(outputsOnDisk(p)).toEqual([...campaignJobs])
    expect(lockedOutputs(p)).toEqual([...campaignJobs].sort())
    expect(await sim.submissions()).toBe(5)
  }, 60_000)

  it("a job sharing a render with a selected job is not run unless selected; a glob selects by folder", async () => {
    const p = tempProject()
    writeCampaign(p)
    const sim = await startTestSim()
    const copy = await clapper(p, ["run", "campaign.yaml", "--only", "out/copy/*"], sim)
    expect(copy.code, copy.stderr).toBe(0)
    expect(outputsOnDisk(p)).toEqual(["out/copy/alice.mp4"])
    expect(lockedOutputs(p)).toEqual(["out/copy/alice.mp4"])
    expect(await sim.submissions()).toBe(1)
  }, 60_000)

  it("--limit N: the first N jobs in plan order (a proof round); combined with --set, of that set", async () => {
    const p = tempProject()
    writeCampaign(p)
    const sim = await startTestSim()
    const proof = await clapper(p, ["run", "campaign.yaml", "--set", "people", "--limit", "2", "--json"], sim)
    expect(proof.code, proof.stderr).toBe(0)
    expect(
      eventsOf(proof)
        .filter((e) => e.type === "job.queued")
        .map((e) => e["job"])
    ).toEqual(["out/people/p1.mp4", "out/people/p2.mp4"])
    expect(outputsOnDisk(p)).toEqual(["out/people/p1.mp4", "out/people/p2.mp4"])
  }, 60_000)

  it("the budget counts only the selected renders: the whole campaign is refused, the selection runs", async () => {
    const p = tempProject()
    writeCampaign(p)
    const sim = await startTestSim()
    const budget = String(2 * renderCostUsd + 0.1)
    const all = await clapper(p, ["run", "campaign.yaml", "--budget", budget], sim)
    expect(all.code).toBe(2)
    expect(all.stderr).toContain("$4.50")
    expect(await sim.submissions()).toBe(0)
    const hero = await clapper(p, ["run", "campaign.yaml", "--budget", budget, "--set", "hero"], sim)
    expect(hero.code, hero.stderr).toBe(0)
    expect(await sim.submissions()).toBe(2)
  }, 60_000)

  it("--retry-failed: only the jobs whose last attempt failed, as plan and status show them", async () => {
    const p = tempProject()
    writeCampaign(p)
    // The first run: every video ends FAILED at the provider.
    const failing = await startTestSim({ failRate: 1, failCodes: ["generation_failed"] })
    const first = await clapper(p, ["run", "campaign.yaml", "--set", "hero", "--set", "people"], failing)
    expect(first.code).toBe(1)

    // Failed as status shows it: the copy never ran, but the render it needs failed.
    const failed = await clapper(p, ["status", "campaign.yaml", "--retry-failed", "--json"])
    expect(failed.code, failed.stderr).toBe(0)
    const status = JSON.parse(failed.stdout) as { jobs: Array<{ id: string; state: string }>; selection: { jobs: number; of: number } }
    expect(status.jobs.map((j) => [j.id, j.state])).toEqual(campaignJobs.map((id) => [id, "failed"]))
    expect(status.selection).toMatchObject({ jobs: 6, of: 6 })

    const sim = await startTestSim()
    const heroAgain = await clapper(p, ["run", "campaign.yaml", "--retry-failed", "--set", "hero"], sim)
    expect(heroAgain.code, heroAgain.stderr).toBe(0)
    expect(await sim.submissions()).toBe(2)

    const plan = await clapper(p, ["plan", "campaign.yaml", "--retry-failed", "--json"])
    expect(plan.code, plan.stderr).toBe(0)
    const planned = JSON.parse(plan.stdout) as { jobs: Array<{ id: string }>; totals: { jobs: number; estimatedCostUsd: number } }
    expect(planned.jobs.map((j) => j.id)).toEqual(["out/people/p1.mp4", "out/people/p2.mp4", "out/people/p3.mp4"])
    expect(planned.totals).toMatchObject({ jobs: 3, estimatedCostUsd: 3 * renderCostUsd })

    const rest = await clapper(p, ["run", "campaign.yaml", "--retry-failed"], sim)
    expect(rest.code, rest.stderr).toBe(0)
    expect(await sim.submissions()).toBe(5)
    // Once hero/alice was rendered, the copy no longer failed: it is still to do (from that file).
    expect(existsSync(join(p.root, "out/copy/alice.mp4"))).toBe(false)
    const copy = await clapper(p, ["status", "campaign.yaml", "--set", "copy", "--json"])
    expect((JSON.parse(copy.stdout) as { jobs: Array<{ state: string }> }).jobs.map((j) => j.state)).toEqual(["in-flight"])
  }, 90_000)
})

describe("selectors that cannot be used (exit 2, nothing sent or written)", () => {
  const refused = async (args: ReadonlyArray<string>, command = "run") => {
    const p = tempProject()
    writeCampaign(p)
    const sim = await startTestSim()
    const before = p.snapshot()
    const result = await clapper(p, [command, "campaign.yaml", ...args], command === "run" ? sim : undefined)
    expect(result.code).toBe(2)
    expect(p.snapshot()).toEqual(before)
    expect((await sim.stats()).requests["POST /v1/videos"] ?? 0).toBe(0)
    return result.stderr
  }

  it("an id no job has: named, with the close job ids", async () => {
    const stderr = await refused(["--only", "out/hero/alise.mp4"])
    expect(stderr).toContain(
      'clapper: --only out/hero/alise.mp4: no job has this id (job ids are output paths relative to the project root) (did you mean "out/hero/alice.mp4"?)'
    )
  }, 30_000)

  it("a glob that matches nothing, an unknown set: each named, with a suggestion", async () => {
    const stderr = await refused(["--only", "out/peple/*", "--set", "heros"])
    expect(stderr).toContain("--only out/peple/*: the glob matches no job id")
    expect(stderr).toContain('(did you mean "out/people/*"?)')
    expect(stderr).toContain('--set heros: no set of that name has jobs (the sets: hero, people, copy) (did you mean "hero"?)')
  }, 30_000)

  it("--limit 0 and a negative --limit", async () => {
    expect(await refused(["--limit", "0"])).toContain("--limit 0: the number of jobs must be a whole number, 1 or more")
    expect(await refused(["--limit", "-3"])).toContain("--limit -3: the number of jobs must be a whole number, 1 or more")
  }, 30_000)

  it("kinds that match nothing together; the same checks in plan and status", async () => {
    expect(await refused(["--set", "hero", "--only", "out/people/*"])).toContain("no job matches --only and --set together")
    expect(await refused(["--only", "nope.mp4"], "plan")).toContain("--only nope.mp4: no job has this id")
    expect(await refused(["--set", "nope"], "status")).toContain("--set nope: no set of that name has jobs")
  }, 60_000)
})

describe("--retry-failed with nothing failed", () => {
  it("says so, sends nothing, exit 0", async () => {
    const p = tempProject()
    writeCampaign(p)
    const sim = await startTestSim()
    const result = await clapper(p, ["run", "campaign.yaml", "--retry-failed"], sim)
    expect(result.code, result.stderr).toBe(0)
    expect(result.stdout + result.stderr).toContain("--retry-failed: no selected job failed in an earlier run: nothing to do")
    const stats = await sim.stats()
    expect(Object.values(stats.requests).reduce((a, b) => a + b, 0)).toBe(0)
    const plan = await clapper(p, ["plan", "campaign.yaml", "--retry-failed"])
    expect(plan.code).toBe(0)
    expect(plan.stdout).toContain("nothing to do")
  }, 30_000)
})
