/**
 * Benchmark 1, orchestration overhead: N jobs (10,000) at concurrency C (64) on the simulator at
 * render factor 0 with tiny files, so almost nothing but the client's own work is measured: wall
 * time, CPU time per job and peak RSS of Clapper (journal and lock file on, as always) and of the
 * baseline (no state), and of Clapper again with its heap capped (`BENCH_HEAP_CAP_MB`, 128).
 * `BENCH_JOBS`, `BENCH_CONCURRENCY`, `BENCH_REPEAT` override the sizes.
 */
import { makeCampaign, orchestrationCampaignSpec } from "./support/campaign.ts"
import { checkOutputs, runBaseline, runClapper, warmUp } from "./support/contenders.ts"
import { integerEnv } from "./support/env.ts"
import { fmt, median, seconds } from "./support/numbers.ts"
import type { ProcessRun } from "./support/processes.ts"
import { roomySim } from "./support/quotas.ts"
import { markdownTable, publish, verdictAtMost } from "./support/report.ts"
import { allRequests, apiRequests, requestsTo, withSimulator } from "./support/simulator.ts"

const startedAt = new Date()
await warmUp()
const jobs = integerEnv("BENCH_JOBS", 10_000)
const concurrency = integerEnv("BENCH_CONCURRENCY", 64)
const repeat = integerEnv("BENCH_REPEAT", 1)
const spec = orchestrationCampaignSpec("overhead", jobs, concurrency)

interface Sample {
  readonly process: ProcessRun
  readonly completed: number
  readonly valid: number
  readonly apiRequests: number
  readonly statusRequests: number
  readonly allRequests: number
  /** Clapper only: the run itself (after load, plan and state), from its summary. */
  readonly runMs?: number
}

// The third contender is Clapper with V8's old generation capped: how much of its peak RSS is
// garbage V8 had not needed to collect yet (a 24 GiB machine gives Node a 4 GiB heap limit).
const heapCapMB = integerEnv("BENCH_HEAP_CAP_MB", 128)
const contenders = ["baseline", "clapper", "clapperCapped"] as const
const samples: Record<(typeof contenders)[number], Array<Sample>> = { baseline: [], clapper: [], clapperCapped: [] }

for (let round = 1; round <= repeat; round++) {
  for (const contender of contenders) {
    const campaign = makeCampaign(spec)
    try {
      const { result, stats } = await withSimulator({ ...roomySim, renderFactor: 0 }, async (sim) => {
        if (contender === "baseline") {
          const run = await runBaseline(campaign, sim.baseUrl, { concurrency, pollMs: 0 })
          return { process: run.process, completed: run.log.done, runMs: undefined }
        }
        const env: Record<string, string> = contender === "clapperCapped" ? { NODE_OPTIONS: `--max-old-space-size=${heapCapMB}` } : {}
        const run = await runClapper(campaign, "run", sim.baseUrl, env)
        return { process: run.process, completed: run.summary?.completed.length ?? 0, runMs: run.summary?.elapsedMs }
      })
      const check = checkOutputs(campaign)
      samples[contender].push({
        process: result.process,
        completed: result.completed,
        valid: check.valid,
        apiRequests: apiRequests(stats),
        statusRequests: requestsTo(stats, "GET /v1/videos/{video_id}"),
        allRequests: allRequests(stats),
        ...(result.runMs !== undefined ? { runMs: result.runMs } : {})
      })
      console.error(
        `round ${round} ${contender}: ${seconds(result.process.wallMs)} wall, ${fmt(result.process.cpuMs)} ms CPU, ${fmt(result.process.maxRssMB)} MB peak RSS, ${result.completed}/${jobs} completed`
      )
    } finally {
      campaign.remove()
    }
  }
}

const med = (contender: (typeof contenders)[number], pick: (s: Sample) => number) => median(samples[contender].map(pick))
const row = (label: string, contender: (typeof contenders)[number]) => [
  label,
  seconds(med(contender, (s) => s.process.wallMs)),
  `${fmt(med(contender, (s) => s.process.cpuMs) / jobs, 2)} ms`,
  `${fmt(med(contender, (s) => s.process.maxRssMB))} MB`,
  fmt(med(contender, (s) => s.apiRequests) / jobs, 2),
  `${fmt(med(contender, (s) => s.completed))} / ${fmt(jobs)}`,
  fmt(med(contender, (s) => s.valid))
]

const baseWall = med("baseline", (s) => s.process.wallMs)
const clapperWall = med("clapper", (s) => s.process.wallMs)
const ratio = clapperWall / baseWall
const rss = med("clapper", (s) => s.process.maxRssMB)
const runMs = med("clapper", (s) => s.runMs ?? Number.NaN)

publish(
  {
    name: "overhead",
    script: "bench:overhead",
    body: `
${fmt(jobs)} jobs (${spec.images} images × ${spec.audioSeconds.length} audios, every pair distinct, inputs of a few hundred bytes to 16 KB) at concurrency ${concurrency}; simulator at render factor 0, placeholder MP4 (${fmt(1)} file per job); ${repeat === 1 ? "one run of each" : `median of ${repeat} runs of each`}. Both poll at once (every job is COMPLETE at its first check; the baseline's interval is 0, Clapper's 1 ms, the least a pipeline accepts); Clapper's \`run.requestsPerSecond\` is 100000 and the simulator's quotas are 10,000,000 requests a minute of every kind (Clapper's \`provider.limits\` the same), so neither its rate limiter nor a quota paces the run. Wall time is from process start to exit (startup, and for Clapper loading, planning and its state, included); CPU time and peak RSS are the contender process's own (getrusage), the simulator runs in the benchmark's process.

${markdownTable({
  header: ["", "wall time", "CPU time per job", "peak RSS", "API requests per job", "completed", "valid outputs"],
  rows: [
    row("baseline (p-limit + fetch, no state)", "baseline"),
    row("Clapper (`clapper run --json`, journal + lock file)", "clapper"),
    row(`Clapper, old generation capped (\`NODE_OPTIONS=--max-old-space-size=${heapCapMB}\`)`, "clapperCapped")
  ]
})}

- Wall time, Clapper ÷ baseline: **${fmt(ratio, 2)}×** (target ≤ 1.25×): ${verdictAtMost(ratio, 1.25, (x) => `${fmt(x, 2)}×`)}.
- Clapper's peak RSS: ${verdictAtMost(rss, 300, (x) => `${fmt(x)} MB`)} (target < 300 MB).
- With its heap capped at ${heapCapMB} MB, Clapper peaks at ${fmt(med("clapperCapped", (s) => s.process.maxRssMB))} MB and spends ${fmt((med("clapperCapped", (s) => s.process.cpuMs) / med("clapper", (s) => s.process.cpuMs) - 1) * 100)} % more CPU (more frequent garbage collections): what it keeps alive fits; the uncapped peak is garbage V8 had no reason to collect sooner.
- Of Clapper's wall time, ${seconds(runMs)} is the run itself (\`summary.elapsedMs\`, from the first event to the last); the rest is startup, loading and planning ${fmt(jobs)} jobs, and opening/closing the state.
`
  },
  startedAt,
  Date.now() - startedAt.getTime()
)
