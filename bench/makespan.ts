/**
 * Benchmark 2, makespan efficiency: N jobs (500) with seeded render times of 20–120 s at
 * concurrency C (25), time compressed by `BENCH_SCALE` (0.05: renders of 1–6 s). Measured
 * makespan (first event to last output written) over the ideal: the greedy schedule of the same
 * render times, in the same order, on C slots — what a scheduler that lost no time between
 * renders would achieve. Clapper with its defaults scaled alike, and the baseline polling at a
 * fixed 5 s and 1 s (scaled). `BENCH_JOBS`, `BENCH_CONCURRENCY`, `BENCH_SCALE`, `BENCH_SEED`.
 */
import { makeRenderCampaign, scaledClapperRun, simRenderMs } from "./support/campaign.ts"
import { runBaseline, runClapper, warmUp } from "./support/contenders.ts"
import { integerEnv, numberEnv } from "./support/env.ts"
import { fmt, seconds } from "./support/numbers.ts"
import { roomySim } from "./support/quotas.ts"
import { markdownTable, publish, verdictAtMost } from "./support/report.ts"
import { apiRequests, withSimulator } from "./support/simulator.ts"
import { greedyMakespan, makespanLowerBound } from "./support/schedule.ts"

const startedAt = new Date()
await warmUp()
const jobs = integerEnv("BENCH_JOBS", 500)
const concurrency = integerEnv("BENCH_CONCURRENCY", 25)
const scale = numberEnv("BENCH_SCALE", 0.05)
const seed = integerEnv("BENCH_SEED", 2)
const renderFactor = 4 * scale
const clapperRun = scaledClapperRun(scale, concurrency)
const campaignSpec = { name: "makespan", jobs, seed, minRenderSeconds: 20, maxRenderSeconds: 120, run: clapperRun }

type Contender =
  | { readonly label: string; readonly kind: "clapper" }
  | { readonly label: string; readonly kind: "baseline"; readonly pollSeconds: number }
const contenders: ReadonlyArray<Contender> = [
  { label: "Clapper (adaptive polling)", kind: "clapper" },
  { label: "baseline, fixed 5 s polling", kind: "baseline", pollSeconds: 5 },
  { label: "baseline, fixed 1 s polling", kind: "baseline", pollSeconds: 1 }
]

interface Result {
  readonly label: string
  readonly makespanMs: number
  readonly wallMs: number
  readonly completed: number
  readonly apiRequests: number
}

const probe = makeRenderCampaign(campaignSpec)
probe.remove()
const durations = probe.jobs.map((job) => simRenderMs(job, renderFactor))
const ideal = greedyMakespan(durations, concurrency)
const bound = makespanLowerBound(durations, concurrency)

const results: Array<Result> = []
for (const contender of contenders) {
  const campaign = makeRenderCampaign(campaignSpec)
  try {
    const { result, stats } = await withSimulator({ ...roomySim, renderFactor }, async (sim) => {
      if (contender.kind === "clapper") {
        const run = await runClapper(campaign, "run", sim.baseUrl)
        const times = (type: string) => run.events.filter((e) => e.type === type).map((e) => Date.parse(e.at))
        const start = Math.min(...times("run.started"))
        const end = Math.max(...times("job.completed"))
        return { makespanMs: end - start, wallMs: run.process.wallMs, completed: run.summary?.completed.length ?? 0 }
      }
      const run = await runBaseline(campaign, sim.baseUrl, { concurrency, pollMs: Math.round(contender.pollSeconds * 1000 * scale) })
      const end = Math.max(...run.log.jobs.map((j) => j.doneAt ?? 0))
      return { makespanMs: end - run.log.startedAt, wallMs: run.process.wallMs, completed: run.log.done }
    })
    results.push({ label: contender.label, ...result, apiRequests: apiRequests(stats) })
    console.error(`${contender.label}: makespan ${seconds(result.makespanMs)} (ideal ${seconds(ideal)}), ${result.completed}/${jobs}`)
  } finally {
    campaign.remove()
  }
}

const clapper = results[0]
const clapperRatio = clapper ? clapper.makespanMs / ideal : Number.NaN

publish(
  {
    name: "makespan",
    script: "bench:makespan",
    body: `
${jobs} jobs at concurrency ${concurrency}, render times seeded (seed ${seed}) uniform in 20–120 s, time compressed ×${scale} (simulator at render factor ${fmt(renderFactor, 2)}: renders of ${fmt(20 * scale, 1)}–${fmt(120 * scale, 1)} s; no queue before a render, and quotas of 10,000,000 requests a minute of every kind, which Clapper's \`provider.limits\` repeat, so no quota paces either contender: benchmark 6 measures that). Clapper's pipeline has \`run: ${JSON.stringify(clapperRun)}\` (its defaults × ${scale}); the baseline sleeps ${fmt(5000 * scale)} ms or ${fmt(1000 * scale)} ms between checks. Makespan: Clapper from \`run.started\` to the last \`job.completed\`, the baseline from its start (jobs read) to its last file written. Ideal: the greedy schedule of the same render times in the same order on ${concurrency} slots = **${seconds(ideal)}** (${seconds(ideal / scale, 0)} unscaled; no schedule can beat ${seconds(bound)}).

${markdownTable({
  header: ["", "makespan", "÷ ideal", "process wall time", "API requests per job", "completed"],
  rows: results.map((r) => [
    r.label,
    seconds(r.makespanMs),
    `${fmt(r.makespanMs / ideal, 3)}`,
    seconds(r.wallMs),
    fmt(r.apiRequests / jobs, 2),
    `${r.completed} / ${jobs}`
  ])
})}

- Clapper, makespan ÷ ideal: ${verdictAtMost(clapperRatio, 1.05, (x) => fmt(x, 3))} (target ≤ 1.05).
`
  },
  startedAt,
  Date.now() - startedAt.getTime()
)
