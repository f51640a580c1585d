/**
 * Benchmark 4, resume cost: the N-job campaign (10,000) rendered once (setup, timed but not the
 * point), then `clapper plan` and `clapper run` again with everything up to date: time and
 * requests (target: zero requests, under 2 s). The baseline keeps no state: run again it renders
 * everything again, or, with `--skip-existing`, skips every output that exists (without knowing
 * whether its inputs changed). `BENCH_JOBS`, `BENCH_CONCURRENCY`, `BENCH_REPEAT` (3).
 */
import { readFileSync } from "node:fs"
import { makeCampaign, orchestrationCampaignSpec } from "./support/campaign.ts"
import { runBaseline, runClapper, warmUp } from "./support/contenders.ts"
import { integerEnv } from "./support/env.ts"
import { fmt, median, seconds } from "./support/numbers.ts"
import type { ProcessRun } from "./support/processes.ts"
import { roomySim } from "./support/quotas.ts"
import { markdownTable, publish, verdictAtMost } from "./support/report.ts"
import { allRequests, submissions, withSimulator } from "./support/simulator.ts"

const startedAt = new Date()
await warmUp()
const jobs = integerEnv("BENCH_JOBS", 10_000)
const concurrency = integerEnv("BENCH_CONCURRENCY", 64)
const repeat = integerEnv("BENCH_REPEAT", 3)
const spec = orchestrationCampaignSpec("resume", jobs, concurrency)
const simOptions = { ...roomySim, renderFactor: 0 }

interface Measured {
  readonly label: string
  readonly runs: ReadonlyArray<ProcessRun>
  /** Requests per run (median), "—" when the command has no way to send any. */
  readonly requests: number | undefined
  readonly rendersAgain: number
  readonly note: string
}

const rows: Array<Measured> = []
const setups: Array<string> = []

// Clapper: render once, then plan and run with nothing to do.
{
  const campaign = makeCampaign(spec)
  try {
    const setup = await withSimulator(simOptions, (sim) => runClapper(campaign, "run", sim.baseUrl))
    const done = setup.result.summary?.completed.length ?? 0
    if (done !== jobs) throw new Error(`the setup run completed ${done} of ${jobs} jobs`)
    setups.push(`Clapper's first run: ${seconds(setup.result.process.wallMs, 1)}`)
    const lock = readFileSync(campaign.pipelineFile.replace(/\.yaml$/, ".lock.json"))
    const plans: Array<ProcessRun> = []
    const runs: Array<ProcessRun> = []
    const requests: Array<number> = []
    const paid: Array<number> = []
    let upToDate = 0
    let lockUnchanged = true
    for (let i = 0; i < repeat; i++) {
      plans.push((await runClapper(campaign, "plan", "")).process)
      const again = await withSimulator(simOptions, (sim) => runClapper(campaign, "run", sim.baseUrl))
      runs.push(again.result.process)
      requests.push(allRequests(again.stats))
      paid.push(submissions(again.stats).total)
      upToDate = again.result.summary?.upToDate.length ?? 0
      lockUnchanged &&= readFileSync(campaign.pipelineFile.replace(/\.yaml$/, ".lock.json")).equals(lock)
      console.error(`clapper plan ${seconds(plans[i]?.wallMs ?? 0)}, run ${seconds(again.result.process.wallMs)}, ${requests[i]} requests`)
    }
    rows.push({
      label: "`clapper plan` (all up to date)",
      runs: plans,
      requests: undefined,
      rendersAgain: 0,
      note: "sends nothing (needs no key)"
    })
    rows.push({
      label: "`clapper run` (all up to date)",
      runs,
      requests: median(requests),
      rendersAgain: median(paid),
      note: `${fmt(upToDate)} of ${fmt(jobs)} jobs up to date; lock file ${lockUnchanged ? "byte for byte unchanged" : "REWRITTEN"}`
    })
  } finally {
    campaign.remove()
  }
}

// The baseline: render once, then again (it renders everything again), then with --skip-existing.
{
  const campaign = makeCampaign(spec)
  try {
    const setup = await withSimulator(simOptions, (sim) => runBaseline(campaign, sim.baseUrl, { concurrency, pollMs: 0 }))
    setups.push(`the baseline's first run: ${seconds(setup.result.process.wallMs, 1)}`)
    const again = await withSimulator(simOptions, (sim) => runBaseline(campaign, sim.baseUrl, { concurrency, pollMs: 0 }))
    rows.push({
      label: "baseline run again",
      runs: [again.result.process],
      requests: allRequests(again.stats),
      rendersAgain: submissions(again.stats).total,
      note: "no state: every job is submitted, paid and downloaded again"
    })
    const skips: Array<ProcessRun> = []
    const skipRequests: Array<number> = []
    for (let i = 0; i < repeat; i++) {
      const skip = await withSimulator(simOptions, (sim) =>
        runBaseline(campaign, sim.baseUrl, { concurrency, pollMs: 0, skipExisting: true })
      )
      skips.push(skip.result.process)
      skipRequests.push(allRequests(skip.stats))
    }
    rows.push({
      label: "baseline run again with `--skip-existing`",
      runs: skips,
      requests: median(skipRequests),
      rendersAgain: 0,
      note: "skips any existing file: a changed input or a truncated file goes unnoticed"
    })
  } finally {
    campaign.remove()
  }
}

const clapperRun = rows[1]
const clapperPlan = rows[0]
const wall = (m: Measured | undefined) => median((m?.runs ?? []).map((r) => r.wallMs))

publish(
  {
    name: "resume",
    script: "bench:resume",
    body: `
The ${fmt(jobs)}-job campaign of benchmark 1 (render factor 0, concurrency ${concurrency}), rendered once (${setups.join(", ")}), then run again with nothing changed; ${repeat === 1 ? "one run" : `median of ${repeat} runs`} of each command (the baseline's full re-render once). Wall time from process start to exit; requests counted by a fresh simulator for each run.

${markdownTable({
  header: ["", "wall time", "CPU time", "peak RSS", "requests", "renders paid again", ""],
  rows: rows.map((m) => [
    m.label,
    seconds(median(m.runs.map((r) => r.wallMs))),
    seconds(median(m.runs.map((r) => r.cpuMs))),
    `${fmt(median(m.runs.map((r) => r.maxRssMB)))} MB`,
    m.requests === undefined ? "—" : fmt(m.requests),
    fmt(m.rendersAgain),
    m.note
  ])
})}

- \`clapper run\`, requests: ${clapperRun?.requests === 0 ? "**met** (0)" : `**missed** (${fmt(clapperRun?.requests ?? Number.NaN)})`} (target 0).
- \`clapper run\`, time: ${verdictAtMost(wall(clapperRun) / 1000, 2, (x) => `${fmt(x, 2)} s`)} (target < 2 s).
- \`clapper plan\`, time: ${verdictAtMost(wall(clapperPlan) / 1000, 2, (x) => `${fmt(x, 2)} s`)} (target < 2 s).
`
  },
  startedAt,
  Date.now() - startedAt.getTime()
)
