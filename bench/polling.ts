/**
 * Benchmark 3, polling cost: status requests per job, and the delay between a job becoming
 * COMPLETE at the simulator and its download starting, for Clapper's adaptive polling and for
 * the baseline polling at a fixed 1 s and 5 s. Render times are seeded, 20–120 s, and time is
 * compressed by `BENCH_SCALE` (0.1: renders of 2–12 s, Clapper's 5 s/30 s poll bounds become
 * 0.5 s/3 s, the baseline's 1 s and 5 s become 0.1 s and 0.5 s), so ratios and request counts
 * are those of the real durations. `BENCH_JOBS` (200), `BENCH_CONCURRENCY` (25), `BENCH_SEED`.
 */
import { makeRenderCampaign, scaledClapperRun, simRenderMs, type Campaign } from "./support/campaign.ts"
import { runBaseline, runClapper, warmUp } from "./support/contenders.ts"
import { integerEnv, numberEnv } from "./support/env.ts"
import { fmt, mean, median, percent, quantile } from "./support/numbers.ts"
import { roomySim } from "./support/quotas.ts"
import { markdownTable, publish, verdictAtMost } from "./support/report.ts"
import { requestsTo, withSimulator } from "./support/simulator.ts"
import { startTimingProxy, type VideoTimes } from "./support/timingProxy.ts"

const startedAt = new Date()
await warmUp()
const jobs = integerEnv("BENCH_JOBS", 200)
const concurrency = integerEnv("BENCH_CONCURRENCY", 25)
const scale = numberEnv("BENCH_SCALE", 0.1)
const seed = integerEnv("BENCH_SEED", 3)
const renderFactor = 4 * scale
const clapperRun = scaledClapperRun(scale, concurrency)
const campaignSpec = { name: "polling", jobs, seed, minRenderSeconds: 20, maxRenderSeconds: 120, run: clapperRun }

type Contender =
  | { readonly label: string; readonly kind: "clapper" }
  | { readonly label: string; readonly kind: "baseline"; readonly pollSeconds: number }
const contenders: ReadonlyArray<Contender> = [
  { label: "Clapper, adaptive (5 s – 30 s)", kind: "clapper" },
  { label: "baseline, fixed 1 s", kind: "baseline", pollSeconds: 1 },
  { label: "baseline, fixed 5 s", kind: "baseline", pollSeconds: 5 }
]

interface JobMeasure {
  readonly statusRequests: number
  /** Scaled ms. */
  readonly delayMs: number
  readonly renderMs: number
}

interface Result {
  readonly label: string
  readonly measures: ReadonlyArray<JobMeasure>
  readonly completed: number
  readonly statusRequests: number
  readonly apiRequests: number
  readonly wallMs: number
}

/** Per job, its videos (the last one is the one downloaded). */
const measure = (campaign: Campaign, videosOf: ReadonlyMap<string, ReadonlyArray<string>>, times: ReadonlyMap<string, VideoTimes>) =>
  campaign.jobs.flatMap((job): Array<JobMeasure> => {
    const ids = videosOf.get(job.output) ?? []
    const last = times.get(ids[ids.length - 1] ?? "")
    if (last?.createdAt === undefined || last.contentAskedAt === undefined) return []
    const renderMs = simRenderMs(job, renderFactor)
    return [
      {
        statusRequests: ids.reduce((n, id) => n + (times.get(id)?.statusRequests ?? 0), 0),
        delayMs: last.contentAskedAt - (last.createdAt + renderMs),
        renderMs
      }
    ]
  })

const results: Array<Result> = []
for (const contender of contenders) {
  const campaign = makeRenderCampaign(campaignSpec)
  try {
    const { result, stats } = await withSimulator({ ...roomySim, renderFactor }, async (sim) => {
      const proxy = await startTimingProxy(sim.baseUrl)
      try {
        const videosOf = new Map<string, Array<string>>()
        if (contender.kind === "clapper") {
          const run = await runClapper(campaign, "run", proxy.baseUrl)
          for (const event of run.events) {
            if (event.type === "job.submitted") videosOf.set(event.job, [...(videosOf.get(event.job) ?? []), event.videoId])
          }
          return {
            measures: measure(campaign, videosOf, proxy.videos),
            completed: run.summary?.completed.length ?? 0,
            wallMs: run.process.wallMs
          }
        }
        const run = await runBaseline(campaign, proxy.baseUrl, { concurrency, pollMs: Math.round(contender.pollSeconds * 1000 * scale) })
        for (const job of run.log.jobs)
          videosOf.set(
            job.output,
            job.submits.map((s) => s.videoId)
          )
        return { measures: measure(campaign, videosOf, proxy.videos), completed: run.log.done, wallMs: run.process.wallMs }
      } finally {
        await proxy.close()
      }
    })
    results.push({
      label: contender.label,
      ...result,
      statusRequests: requestsTo(stats, "GET /v1/videos/{video_id}"),
      apiRequests: Object.entries(stats.requests)
        .filter(([route]) => route.includes(" /v1/"))
        .reduce((a, [, n]) => a + n, 0)
    })
    console.error(`${contender.label}: ${result.completed}/${jobs} completed, ${fmt(result.wallMs / 1000, 1)} s`)
  } finally {
    campaign.remove()
  }
}

const real = (scaledMs: number) => `${fmt(scaledMs / scale / 1000, 2)} s`
const rows = results.map((r) => {
  const requests = r.measures.map((m) => m.statusRequests)
  const delays = r.measures.map((m) => m.delayMs)
  const ratios = r.measures.map((m) => m.delayMs / m.renderMs)
  return [
    r.label,
    fmt(r.statusRequests / jobs, 2),
    `${fmt(quantile(requests, 0.9), 0)} / ${fmt(Math.max(...requests), 0)}`,
    real(median(delays)),
    real(quantile(delays, 0.9)),
    percent(median(ratios)),
    percent(quantile(ratios, 0.9)),
    fmt(r.apiRequests / jobs, 2),
    `${r.completed} / ${jobs}`
  ]
})

const clapper = results[0]
const clapperRequests = clapper ? clapper.statusRequests / jobs : Number.NaN
const clapperRatio = clapper ? median(clapper.measures.map((m) => m.delayMs / m.renderMs)) : Number.NaN
const measured = Math.min(...results.map((r) => r.measures.length))

publish(
  {
    name: "polling",
    script: "bench:polling",
    body: `
${jobs} jobs at concurrency ${concurrency}, render times seeded (seed ${seed}) uniform in 20–120 s (mean ${fmt(mean(makeRenderCampaignDurations()), 1)} s), time compressed ×${scale}: the simulator runs at render factor ${fmt(renderFactor, 2)} (renders of ${fmt(20 * scale, 1)}–${fmt(120 * scale, 1)} s, no queue before a render, quotas of 10,000,000 requests a minute of every kind, repeated in Clapper's \`provider.limits\`) and every interval is scaled alike — Clapper's pipeline has \`run: ${JSON.stringify(clapperRun)}\` (its defaults × ${scale}), the baseline sleeps ${fmt(1000 * scale)} ms / ${fmt(5000 * scale)} ms between checks. Times below are converted back to real time (÷ ${scale}). Detection delay = when the download was first asked for (GET …/content) − when the job became COMPLETE (its creation, as seen on the simulator's side of a pass-through proxy, + its render time); status requests = GET /v1/videos/{id}. ${measured < jobs ? `(${jobs - measured} jobs without a download are left out.)` : ""}

${markdownTable({
  header: [
    "",
    "status requests per job (mean)",
    "… p90 / max",
    "detection delay, median",
    "… p90",
    "median delay ÷ render time",
    "p90 delay ÷ render time",
    "API requests per job (all)",
    "completed"
  ],
  rows
})}

- Clapper, status requests per job: ${verdictAtMost(clapperRequests, 4, (x) => fmt(x, 2))} (target ≤ 4).
- Clapper, median detection delay ÷ render time: ${verdictAtMost(clapperRatio, 0.1, (x) => percent(x))} (target ≤ 10 %).
`
  },
  startedAt,
  Date.now() - startedAt.getTime()
)

function makeRenderCampaignDurations(): ReadonlyArray<number> {
  const campaign = makeRenderCampaign(campaignSpec)
  campaign.remove()
  return campaign.jobs.map((j) => j.audioSeconds * 4)
}
