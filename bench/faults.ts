/**
 * Benchmark 5, faults: N jobs (1,000) at concurrency C (25) on a simulator injecting 10 % each of
 * 5xx answers (every API request), connection resets (submits dropped after the video was
 * created) and videos ending FAILED `rate_limit_exceeded`, plus 10 % of downloads cut short; 429s
 * come from the simulator's rate limit (`BENCH_THROTTLE` requests per second), its only way of
 * answering 429. Counted: completed jobs, duplicate submissions, corrupt files. Render times
 * 20–120 s compressed by `BENCH_SCALE` (0.02). `BENCH_JOBS`, `BENCH_CONCURRENCY`, `BENCH_SEED`, `BENCH_CONTENDERS`.
 */
import { checkOutputs, runBaseline, runClapper, warmUp } from "./support/contenders.ts"
import { makeRenderCampaign, scaledClapperRun } from "./support/campaign.ts"
import { integerEnv, numberEnv } from "./support/env.ts"
import { fmt, percent, seconds } from "./support/numbers.ts"
import { roomySim } from "./support/quotas.ts"
import { markdownTable, publish } from "./support/report.ts"
import { apiRequests, submissions, withSimulator } from "./support/simulator.ts"
import { startTimingProxy, type TimingProxy } from "./support/timingProxy.ts"
import type { Campaign } from "./support/campaign.ts"

const startedAt = new Date()
await warmUp()
const jobs = integerEnv("BENCH_JOBS", 1000)
const concurrency = integerEnv("BENCH_CONCURRENCY", 25)
const scale = numberEnv("BENCH_SCALE", 0.02)
const seed = integerEnv("BENCH_SEED", 5)
const throttleRps = numberEnv("BENCH_THROTTLE", 40)
const clapperRps = numberEnv("BENCH_CLAPPER_RPS", throttleRps)
// `BENCH_CONTENDERS=clapper` measures Clapper alone (quicker when chasing a Clapper finding).
const contenders = (process.env["BENCH_CONTENDERS"] ?? "clapper,baseline")
  .split(",")
  .map((name) => name.trim())
  .filter((name): name is "clapper" | "baseline" => name === "clapper" || name === "baseline")
const rate = 0.1
const renderFactor = 4 * scale
const simOptions = {
  ...roomySim,
  renderFactor,
  seed,
  throttleRps,
  errorRate: rate,
  resetRate: rate,
  failRate: rate,
  failCodes: ["rate_limit_exceeded"],
  truncateRate: rate
}
// Polls scaled like the render times; retries are not: the simulator's Retry-After is in whole
// seconds, and a fault's cost in time is part of what is measured.
const clapperRun = { ...scaledClapperRun(scale, concurrency, { scaleRetries: false }), requestsPerSecond: clapperRps }
const baselinePollMs = Math.round(5000 * scale)
const campaignSpec = { name: "faults", jobs, seed, minRenderSeconds: 20, maxRenderSeconds: 120, run: clapperRun }

interface Result {
  readonly label: string
  readonly completed: number
  readonly valid: number
  readonly corrupt: number
  readonly missing: number
  readonly leftovers: number
  readonly submissions: number
  readonly distinctPairs: number
  /** Videos that ended FAILED at the simulator. */
  readonly failedVideos: number
  /** Jobs that gave up on a FAILED video (no resubmission followed it). */
  readonly gaveUpOnFailed: number
  /** Clapper's recorded possible duplicates. */
  readonly recordedDuplicates: number | undefined
  readonly statuses: ReadonlyMap<string, number>
  readonly apiRequests: number
  readonly wallMs: number
  readonly failures: ReadonlyArray<string>
  /** Completed jobs whose output is a video made from another job's inputs (certainly). */
  readonly wrongInputs: number
  /** Completed jobs whose video was found by reconciliation after their own submit's connection dropped. */
  readonly adopted: number
}

/**
 * Which inputs made the video each job downloaded. A video whose POST was answered is known by
 * its audio's file name (every job of this campaign has its own audio); a video a job adopted
 * (never answered to it) must come from a submit of the same job whose connection dropped, or
 * it is certainly another job's.
 */
const provenance = (campaign: Campaign, proxy: TimingProxy, finalVideo: ReadonlyMap<string, string>) => {
  let wrongInputs = 0
  let adopted = 0
  // Each finding is printed with what the proxy saw, so a miss can be traced to its submits.
  const report = (job: Campaign["jobs"][number], videoId: string, why: string) => {
    wrongInputs++
    const own = proxy.submits.filter((s) => s.audio === job.audio.slice("wav/".length))
    console.error(
      `  ${job.output}: ${videoId} ${why}; its own submits: ${own.map((s) => `${s.outcome}${s.videoId ? ` ${s.videoId}` : ""} at ${Math.round(s.arrivedAt)}`).join(", ") || "none"}`
    )
  }
  for (const job of campaign.jobs) {
    const videoId = finalVideo.get(job.output)
    if (videoId === undefined) continue
    const audio = job.audio.slice("wav/".length)
    const known = proxy.videos.get(videoId)?.audio
    if (known !== undefined) {
      if (known !== audio) report(job, videoId, `was made from ${known}`)
      continue
    }
    const ownDropped = proxy.submits.some((s) => s.audio === audio && s.outcome === "reset")
    if (ownDropped) adopted++
    else report(job, videoId, "was adopted, but none of its own submits was dropped")
  }
  return { wrongInputs, adopted }
}

const results: Array<Result> = []
for (const kind of contenders) {
  const campaign = makeRenderCampaign(campaignSpec)
  try {
    const { result, stats } = await withSimulator(simOptions, async (sim) => {
      const proxy = await startTimingProxy(sim.baseUrl)
      try {
        if (kind === "clapper") {
          const run = await runClapper(campaign, "run", proxy.baseUrl)
          const summary = run.summary
          const finalVideo = new Map(run.events.flatMap((e) => (e.type === "job.completed" ? [[e.job, e.videoId] as const] : [])))
          return {
            ...provenance(campaign, proxy, finalVideo),
            label: "Clapper",
            completed: summary?.completed.length ?? 0,
            gaveUpOnFailed: summary?.failed.filter((f) => f.code === "rate_limit_exceeded").length ?? 0,
            recordedDuplicates: summary?.possibleDuplicates,
            failures: summary?.failed.map((f) => `${f.step}: ${f.reason}`) ?? [],
            wallMs: run.process.wallMs,
            statuses: new Map(proxy.statuses)
          }
        }
        const run = await runBaseline(campaign, proxy.baseUrl, { concurrency, pollMs: baselinePollMs, retryMs: 1000, attempts: 5 })
        const finalVideo = new Map(
          run.log.jobs.flatMap((j) =>
            j.doneAt !== undefined && j.submits.length > 0 ? [[j.output, j.submits[j.submits.length - 1]?.videoId ?? ""] as const] : []
          )
        )
        return {
          ...provenance(campaign, proxy, finalVideo),
          label: "baseline",
          completed: run.log.done,
          gaveUpOnFailed: run.log.jobs.filter((j) => j.error !== undefined && / FAILED /.test(` ${j.error} `)).length,
          recordedDuplicates: undefined,
          failures: run.log.jobs.flatMap((j) => (j.error === undefined ? [] : [j.error])),
          wallMs: run.process.wallMs,
          statuses: new Map(proxy.statuses)
        }
      } finally {
        await proxy.close()
      }
    })
    const check = checkOutputs(campaign)
    const subs = submissions(stats)
    results.push({
      ...result,
      valid: check.valid,
      corrupt: check.corrupt,
      missing: check.missing,
      leftovers: check.leftovers,
      submissions: subs.total,
      distinctPairs: subs.distinct,
      failedVideos: stats.jobs["FAILED"] ?? 0,
      apiRequests: apiRequests(stats)
    })
    console.error(
      `${result.label}: ${result.completed}/${jobs} completed, ${check.corrupt} corrupt, ${subs.total} submissions in ${seconds(result.wallMs)}`
    )
    for (const failure of result.failures.slice(0, 5)) console.error(`  ${failure}`)
  } finally {
    campaign.remove()
  }
}

const answered = (r: Result) => [...r.statuses.values()].reduce((a, b) => a + b, 0)
const share = (r: Result, pick: (status: string) => boolean) => {
  const n = [...r.statuses].filter(([status]) => pick(status)).reduce((a, [, c]) => a + c, 0)
  return `${fmt(n)} (${percent(n / answered(r))})`
}
/** Submissions beyond one per pair that were not a resubmission after a FAILED video. */
const duplicates = (r: Result) => r.submissions - r.distinctPairs - (r.failedVideos - r.gaveUpOnFailed)
const clapper = results.find((r) => r.label === "Clapper")
const clapperUnrecorded = clapper ? duplicates(clapper) - (clapper.recordedDuplicates ?? 0) : Number.NaN

publish(
  {
    name: "faults",
    script: "bench:faults",
    body: `
${fmt(jobs)} jobs at concurrency ${concurrency}; simulator (seed ${seed}) with \`errorRate ${rate}\` (500/502/503 on any API request, before it has any effect), \`resetRate ${rate}\` (a submit's connection dropped after the video was created), \`failRate ${rate}\` with \`failCodes [rate_limit_exceeded]\` (the video ends FAILED partway), \`truncateRate ${rate}\` (a download cut short after its headers promised the full length) and \`throttleRps ${throttleRps}\` (429 + Retry-After beyond ${throttleRps} requests in any second: the simulator's only source of 429s, so their share depends on each client's request rate; its per-key quotas are 10,000,000 requests a minute of every kind, Clapper's \`provider.limits\` the same, and there is no queue before a render). Render times 20–120 s compressed ×${scale} (render factor ${fmt(renderFactor, 2)}). Clapper's pipeline: \`run: ${JSON.stringify(clapperRun)}\` (polls scaled, retries at their defaults: 5 attempts, 1 s doubling to 60 s, Retry-After honoured); the baseline polls every ${baselinePollMs} ms and retries 429/5xx/errors after a fixed 1 s, 5 attempts, and resubmits a FAILED video up to 5 times. Answers counted by a pass-through proxy in front of the simulator's API.

${markdownTable({
  header: [
    "",
    "completed",
    "corrupt files",
    "files left behind",
    "outputs rendered from another job's inputs",
    "submissions",
    "resubmitted after FAILED",
    "duplicate submissions",
    "… recorded as possible duplicates",
    "429 answers",
    "5xx answers",
    "dropped connections",
    "API requests per job",
    "wall time"
  ],
  rows: results.map((r) => [
    r.label,
    `${fmt(r.valid)} / ${fmt(jobs)}`,
    fmt(r.corrupt),
    fmt(r.leftovers),
    fmt(r.wrongInputs),
    fmt(r.submissions),
    fmt(r.failedVideos - r.gaveUpOnFailed),
    fmt(duplicates(r)),
    r.recordedDuplicates === undefined ? "— (keeps no record)" : fmt(r.recordedDuplicates),
    share(r, (s) => s === "429"),
    share(r, (s) => s.startsWith("5")),
    fmt(r.statuses.get("reset") ?? 0),
    fmt(r.apiRequests / jobs, 2),
    seconds(r.wallMs, 1)
  ])
})}

Completed = outputs holding exactly the bytes the simulator served (every video's content is the same placeholder here, so a video made from another job's inputs is counted separately: its POST carried another job's audio, or the job adopted a video although none of its own submits had been dropped; ${results.map((r) => `${r.label}: ${fmt(r.adopted)} videos adopted after a dropped submit`).join(", ")}). Duplicate submissions = accepted submits beyond one per image+audio pair, less the resubmissions after a FAILED video (a failed video has no output; submitting again is the documented remedy). Shares are of all answers the proxy relayed.

- Clapper, completed: ${clapper && clapper.valid === jobs ? "**met** (all)" : `**missed** (${fmt(clapper?.valid ?? 0)} of ${fmt(jobs)})`}.
- Clapper, duplicate submissions beyond those recorded: ${clapperUnrecorded <= 0 ? `**met** (${fmt(Math.max(0, clapperUnrecorded))})` : `**missed** (${fmt(clapperUnrecorded)})`}.
- Clapper, corrupt files: ${clapper && clapper.corrupt === 0 && clapper.leftovers === 0 && clapper.wrongInputs === 0 ? "**met** (0)" : `**missed** (${fmt(clapper?.corrupt ?? 0)} corrupt, ${fmt(clapper?.leftovers ?? 0)} left behind, ${fmt(clapper?.wrongInputs ?? 0)} from another job's inputs)`}.
`
  },
  startedAt,
  Date.now() - startedAt.getTime()
)
