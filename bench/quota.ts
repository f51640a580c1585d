/**
 * Benchmark 6, quota: N renders (40) under the provider's generation quota of Q a minute (2, the
 * published one) per API key, time compressed by `BENCH_SCALE` (0.1: a minute lasts 6 s). The
 * simulator enforces every published quota with its window scaled (Q generations in any
 * 60 s × scale, the same sliding window, burst and all) and queues each video for 2 s × scale
 * before a render of R × scale (R = 60 s); Clapper's pipeline names the same quotas in
 * `provider.limits`, and its polls, retries and request rate are its defaults × scale; the baseline
 * polls every 5 s × scale and retries after 1 s × scale.
 *
 * The quota's bound for n renders: n ÷ rate (n × 60 s ÷ Q) + one render's time (queue + render):
 * the last render cannot be submitted much sooner, nor finish sooner than a render after it.
 * Measured, each against a fresh simulator:
 * - Clapper alone on a key: makespan ÷ the bound, and submits refused (429) by the simulator;
 * - the baseline alone on a key: the same (it does not pace; it gives up on a job whose request
 *   is refused 5 times in a row);
 * - two Clapper processes, two different pipelines of n/2 renders each, started together on one
 *   key (same key, same base URL, same `CLAPPER_QUOTA_DIR`): their joint makespan ÷ the bound
 *   for n, and refused submits ÷ submits sent.
 * `BENCH_RENDERS`, `BENCH_QUOTA` (generations a minute), `BENCH_SCALE`, `BENCH_RENDER_SECONDS`,
 * `BENCH_CONCURRENCY` (8, Clapper's default), `BENCH_CONTENDERS` (alone,baseline,shared), and
 * `BENCH_TRACE=1` to print when each submit reached the server (through a pass-through proxy).
 */
import { mkdtempSync, rmSync } from "node:fs"
import { join } from "node:path"
import { publishedQuotas, type Quotas, type Rate, requestKinds, spacingMs } from "../src/mirage/quotas.ts"
import type { RunEvent } from "../src/runtime/events.ts"
import type { SimStats } from "../src/sim/Simulator.ts"
import { benchTmp, type Campaign, makeCampaign, realRenderFactor, scaledClapperRun, simRenderMs } from "./support/campaign.ts"
import { checkOutputs, type ClapperRun, runBaseline, runClapper, warmUp } from "./support/contenders.ts"
import { flagEnv, integerEnv, numberEnv } from "./support/env.ts"
import { fmt, percent, seconds } from "./support/numbers.ts"
import { limitsOf } from "./support/quotas.ts"
import { markdownTable, publish, verdictAtMost } from "./support/report.ts"
import { requestsTo, submissions, withSimulator } from "./support/simulator.ts"
import { startTimingProxy } from "./support/timingProxy.ts"

const startedAt = new Date()
await warmUp()
const renders = integerEnv("BENCH_RENDERS", 40)
const quotaPerMinute = numberEnv("BENCH_QUOTA", 2)
// Not smaller by default: Clapper keeps its submits 2 % of the quota's spacing further apart than
// the quota asks, and at ×0.05 that is 30 ms, of the order of the time a submit takes from its slot
// to the server on a busy 2-core machine (BENCH_TRACE=1 shows both).
const scale = numberEnv("BENCH_SCALE", 0.1)
const renderSeconds = numberEnv("BENCH_RENDER_SECONDS", 60)
const concurrency = integerEnv("BENCH_CONCURRENCY", 8)
const contenders = new Set((process.env["BENCH_CONTENDERS"] ?? "alone,baseline,shared").split(",").map((name) => name.trim()))
if (!(quotaPerMinute > 0) || !(scale > 0)) throw new Error("BENCH_QUOTA and BENCH_SCALE must be > 0")

const submitRoute = "POST /v1/videos"
const renderFactor = realRenderFactor * scale
const queuedMs = Math.round(2000 * scale)
/** A quota with its window compressed like every other time: `count` in `perMs × scale`. */
const scaled = (rate: Rate): Rate => ({ count: rate.count, perMs: Math.max(1, Math.round(rate.perMs * scale)) })
const quotas: Quotas = Object.fromEntries(
  requestKinds.map((kind) => [kind, scaled(kind === "generation" ? { count: quotaPerMinute, perMs: 60_000 } : publishedQuotas[kind])])
) as Quotas
const limits = limitsOf(quotas)
const simOptions = { renderFactor, queuedMs, quotas, retryAfter: false }
const clapperRun = scaledClapperRun(scale, concurrency)
const baselinePollMs = Math.round(5000 * scale)
const baselineRetryMs = Math.round(1000 * scale)

/**
 * `count` jobs of equal render time (`renderSeconds` unscaled), each with its own audio; `image`
 * picks which of two generated images they use, so two campaigns never submit the same pair.
 */
const quotaCampaign = (name: string, count: number, image: 0 | 1): Campaign =>
  makeCampaign({
    name,
    images: 2,
    audioSeconds: Array.from({ length: count }, () => renderSeconds / realRenderFactor),
    audioRate: 2000,
    pairs: Array.from({ length: count }, (_, a) => [image, a] as const),
    run: clapperRun,
    limits
  })

/** The quota's bound for n renders, scaled ms: n ÷ rate, plus one render (queue + render). */
const renderMs = (campaign: Campaign) => Math.max(...campaign.jobs.map((job) => simRenderMs(job, renderFactor))) + queuedMs
const boundFor = (n: number, oneRenderMs: number) => n * spacingMs(quotas.generation) + oneRenderMs

interface Result {
  readonly label: string
  readonly renders: number
  readonly completed: number
  readonly valid: number
  readonly makespanMs: number
  readonly boundMs: number
  readonly wallMs: number
  /** POST /v1/videos the simulator received, refused for the quota, accepted. */
  readonly submitsSent: number
  readonly refused: number
  readonly accepted: number
  /** Quota 429s on the other routes. */
  readonly otherRefused: number
  /** Jobs that ended failed. */
  readonly failed: number
  readonly notes: ReadonlyArray<string>
}

const times = (events: ReadonlyArray<RunEvent>, type: RunEvent["type"]) =>
  events.filter((e) => e.type === type).map((e) => Date.parse(e.at))

/** What a Clapper run says of itself: its own count of 429s, failures, and how far apart its submits went. */
const clapperNotes = (label: string, run: ClapperRun): Array<string> => {
  const throttled = run.events.filter((e) => e.type === "job.retrying" && e.throttled === true).length
  const failed = run.summary?.failed ?? []
  const submitted = times(run.events, "job.submitted").sort((a, b) => a - b)
  const gaps = submitted.slice(1).map((t, i) => t - (submitted[i] ?? t))
  const started = run.events.find((e) => e.type === "run.started")
  const minimum =
    started?.type === "run.started"
      ? ` (its own estimate of the least time: ${seconds(started.minimumDurationMs)} at ${started.generationQuota})`
      : ""
  return [
    `${label}: exit ${run.process.exitCode}, ${run.summary?.completed.length ?? 0} completed, ${failed.length} failed, ${throttled} submits or requests retried after a 429${minimum}; ` +
      `submits ${gaps.length === 0 ? "—" : `${fmt(Math.min(...gaps))}–${fmt(Math.max(...gaps))} ms apart (mean ${fmt(gaps.reduce((a, b) => a + b, 0) / gaps.length)} ms; quota spacing ${fmt(spacingMs(quotas.generation))} ms)`}`,
    ...failed.slice(0, 5).map((f) => `  failed ${f.job} at ${f.step}: ${f.reason}`),
    ...(run.summary === undefined ? [`  no run.finished; stderr: ${run.process.stderrTail.trim().slice(-1500)}`] : [])
  ]
}

const otherRefusals = (refused: Readonly<Record<string, number>>) =>
  Object.entries(refused)
    .filter(([route]) => route !== submitRoute)
    .reduce((a, [, n]) => a + n, 0)

/**
 * `BENCH_TRACE=1`: a pass-through proxy in front of the simulator notes when each submit arrived
 * and how it was answered, printed afterwards (to tell a refusal's cause; off by default, as the
 * extra hop is not part of what is measured).
 */
const trace = flagEnv("BENCH_TRACE")
/** Which Clapper run made each video, and when each run was refused (epoch ms), for the trace. */
const clapperTrail = (runs: ReadonlyArray<readonly [string, ClapperRun]>) => ({
  owners: new Map(
    runs.flatMap(([label, run]) => run.events.flatMap((e) => (e.type === "job.submitted" ? [[e.videoId, label] as const] : [])))
  ),
  refusals: runs.flatMap(([label, run]) =>
    run.events.flatMap((e) =>
      e.type === "job.retrying" && e.throttled === true ? [{ label, at: Date.parse(e.at), job: e.job, step: e.step }] : []
    )
  )
})
const traced = async <A>(
  baseUrl: string,
  body: (url: string) => Promise<A>,
  trail: (result: A) => ReturnType<typeof clapperTrail> = () => ({ owners: new Map(), refusals: [] })
): Promise<A> => {
  if (!trace) return body(baseUrl)
  const proxy = await startTimingProxy(baseUrl)
  try {
    const result = await body(proxy.baseUrl)
    const { owners, refusals } = trail(result)
    const first = proxy.submits[0]?.arrivedAt ?? 0
    const window = quotas.generation.perMs
    console.error(
      `  trace (arrivals at the proxy, ms from the first; quota ${quotas.generation.count} per ${window} ms, spacing ${fmt(spacingMs(quotas.generation))} ms):`
    )
    const admitted: Array<number> = []
    for (const [i, s] of proxy.submits.entries()) {
      const previous = proxy.submits[i - 1]?.arrivedAt
      // How long before this arrival the oldest of the last `count` admitted ones came: < window means refused.
      const oldest = admitted.length >= quotas.generation.count ? admitted[admitted.length - quotas.generation.count] : undefined
      console.error(
        `    submit ${i}: +${fmt(s.arrivedAt - first)}${previous === undefined ? "" : ` (${fmt(s.arrivedAt - previous)} after the previous)`}` +
          `${oldest === undefined ? "" : `, ${fmt(s.arrivedAt - oldest)} after the ${quotas.generation.count}th admitted before it`} → ${s.outcome}` +
          `${s.videoId !== undefined && owners.has(s.videoId) ? ` (${owners.get(s.videoId)})` : ""}`
      )
      if (s.outcome === "200") admitted.push(s.arrivedAt)
    }
    for (const r of refusals) console.error(`    ${r.label} told of a 429 at +${fmt(r.at - first)} (${r.step}, ${r.job})`)
    // Clapper's shared ledger cuts time into slots of spacing × 1.02 from the epoch, and a submit on
    // time starts at its slot's beginning: how late after it the submit reached the server.
    const slot = spacingMs(quotas.generation) * 1.02
    const late = proxy.submits.map((s) => s.arrivedAt % slot).sort((x, y) => x - y)
    const at = (q: number) => fmt(late[Math.min(late.length - 1, Math.floor(q * late.length))] ?? Number.NaN)
    console.error(
      `    arrivals after the start of their ledger slot (${fmt(slot)} ms): median ${at(0.5)} ms, p90 ${at(0.9)} ms, max ${at(1)} ms (the margin: ${fmt(slot - spacingMs(quotas.generation))} ms a slot)`
    )
    return result
  } finally {
    await proxy.close()
  }
}

/** What the simulator counted of the submits, the same way for every contender. */
const submitCounts = (stats: SimStats) => ({
  submitsSent: requestsTo(stats, submitRoute),
  refused: stats.refused[submitRoute] ?? 0,
  accepted: submissions(stats).total,
  otherRefused: otherRefusals(stats.refused)
})

/**
 * Clapper processes started together against one fresh simulator, one per named campaign, with
 * `env` (a shared `CLAPPER_QUOTA_DIR` puts them on one key's ledger): their joint row, from the
 * earliest `run.started` to the latest `job.completed`.
 */
const measureClapper = async (
  label: string,
  contestants: ReadonlyArray<readonly [name: string, campaign: Campaign]>,
  env: Readonly<Record<string, string>> = {}
): Promise<Result> => {
  const campaigns = contestants.map(([, campaign]) => campaign)
  const count = campaigns.reduce((n, campaign) => n + campaign.jobs.length, 0)
  const { result: runs, stats } = await withSimulator(simOptions, (sim) =>
    traced(
      sim.baseUrl,
      (url) => Promise.all(contestants.map(async ([name, campaign]) => [name, await runClapper(campaign, "run", url, env)] as const)),
      clapperTrail
    )
  )
  const all = runs.flatMap(([, run]) => run.events)
  const notes = runs.flatMap(([name, run]) => {
    const own = Math.max(...times(run.events, "job.completed")) - Math.min(...times(run.events, "run.started"))
    // A run's own makespan says something only beside another's.
    return [...(runs.length > 1 ? [`pipeline ${name}: its own makespan ${seconds(own)}`] : []), ...clapperNotes(`Clapper ${name}`, run)]
  })
  return {
    label,
    renders: count,
    completed: runs.reduce((n, [, run]) => n + (run.summary?.completed.length ?? 0), 0),
    valid: campaigns.reduce((n, campaign) => n + checkOutputs(campaign).valid, 0),
    makespanMs: Math.max(...times(all, "job.completed")) - Math.min(...times(all, "run.started")),
    boundMs: boundFor(count, Math.max(...campaigns.map(renderMs))),
    wallMs: Math.max(...runs.map(([, run]) => run.process.wallMs)),
    ...submitCounts(stats),
    failed: runs.reduce((n, [, run]) => n + (run.summary?.failed.length ?? 0), 0),
    notes: [...notes, `simulator: requests ${JSON.stringify(stats.requests)}, refused ${JSON.stringify(stats.refused)}`]
  }
}

const results: Array<Result> = []

// 1. Clapper alone on a key.
if (contenders.has("alone")) {
  const campaign = quotaCampaign("quota", renders, 0)
  try {
    results.push(await measureClapper("Clapper, alone on the key", [["alone", campaign]]))
  } finally {
    campaign.remove()
  }
}

// 2. The baseline alone on a key: it does not pace, so the quota refuses it.
if (contenders.has("baseline")) {
  const campaign = quotaCampaign("quota", renders, 0)
  try {
    const { result: run, stats } = await withSimulator(simOptions, (sim) =>
      traced(sim.baseUrl, (url) =>
        runBaseline(campaign, url, { concurrency, pollMs: baselinePollMs, retryMs: baselineRetryMs, attempts: 5 })
      )
    )
    const done = run.log.jobs.flatMap((j) => (j.doneAt === undefined ? [] : [j.doneAt]))
    const errors = run.log.jobs.flatMap((j) => (j.error === undefined ? [] : [j.error]))
    results.push({
      label: "baseline, alone on the key",
      renders,
      completed: run.log.done,
      valid: checkOutputs(campaign).valid,
      makespanMs: done.length === 0 ? Number.NaN : Math.max(...done) - run.log.startedAt,
      boundMs: boundFor(renders, renderMs(campaign)),
      wallMs: run.process.wallMs,
      ...submitCounts(stats),
      failed: run.log.failed,
      notes: [
        `baseline: ${run.log.done} done, ${run.log.failed} failed, answers ${JSON.stringify(run.log.counts.byStatus)}, ${run.log.counts.retries} retries`,
        ...errors.slice(0, 3).map((e) => `  ${e.slice(0, 200)}`)
      ]
    })
  } finally {
    campaign.remove()
  }
}

// 3. Two Clapper processes, two pipelines, one key, started together.
if (contenders.has("shared")) {
  const half = Math.ceil(renders / 2)
  const a = quotaCampaign("quota-a", half, 0)
  const b = quotaCampaign("quota-b", renders - half, 1)
  const quotaDir = mkdtempSync(join(benchTmp(), "clapper-bench-shared-quota-"))
  try {
    const label = `Clapper × 2, two pipelines of ${half} and ${renders - half} renders sharing the key`
    results.push(
      await measureClapper(
        label,
        [
          ["a", a],
          ["b", b]
        ],
        { CLAPPER_QUOTA_DIR: quotaDir }
      )
    )
  } finally {
    a.remove()
    b.remove()
    if (!flagEnv("BENCH_KEEP")) rmSync(quotaDir, { recursive: true, force: true })
  }
}

for (const result of results) {
  console.error(
    `${result.label}: makespan ${seconds(result.makespanMs)} (bound ${seconds(result.boundMs)}), ${result.completed}/${result.renders}, ${result.refused} of ${result.submitsSent} submits refused`
  )
  for (const note of result.notes) console.error(`  ${note}`)
}

const spacing = spacingMs(quotas.generation)
const oneRender = renderSeconds * scale * 1000 + queuedMs
const alone = results.find((r) => r.label.startsWith("Clapper, alone"))
const shared = results.find((r) => r.label.startsWith("Clapper × 2"))
const ratio = (r: Result | undefined) => (r ? r.makespanMs / r.boundMs : Number.NaN)
const refusedShare = (r: Result | undefined) => (r && r.submitsSent > 0 ? r.refused / r.submitsSent : Number.NaN)
const real = (scaledMs: number) => {
  const s = scaledMs / scale / 1000
  return s >= 120 ? `${fmt(s / 60, 1)} min` : `${fmt(s, 0)} s`
}

const verdicts = [
  ...(alone
    ? [
        `- Clapper alone, makespan ÷ bound: ${verdictAtMost(ratio(alone), 1.05, (x) => `${fmt(x, 3)}×`)} (target ≤ 1.05×).`,
        `- Clapper alone, refused submits: ${alone.refused === 0 ? "**met** (0)" : `**missed** (${fmt(alone.refused)} of ${fmt(alone.submitsSent)})`} (target 0).`
      ]
    : []),
  ...(shared
    ? [
        `- Two Clappers on one key, joint makespan ÷ bound: ${verdictAtMost(ratio(shared), 1.1, (x) => `${fmt(x, 3)}×`)} (target ≤ 1.10×).`,
        `- Two Clappers on one key, refused ÷ submits: ${verdictAtMost(refusedShare(shared), 0.02, (x) => percent(x))} (target ≤ 2 %).`
      ]
    : [])
]

publish(
  {
    name: "quota",
    script: "bench:quota",
    body: `
${fmt(renders)} renders of ${fmt(renderSeconds)} s each (every image+audio pair distinct) under a generation quota of ${fmt(quotaPerMinute)} a minute per API key, time compressed ×${scale}: the simulator enforces \`provider.limits\` ${JSON.stringify(limits)} (${quotaPerMinute === 2 ? "the published quotas" : `the published quotas but ${fmt(quotaPerMinute)} generations a minute`}, each window × ${scale}: a sliding window per key and kind, 429 with the documented body and no \`Retry-After\` beyond it), keeps each video QUEUED ${fmt(queuedMs)} ms (2 s × ${scale}) and renders it in ${fmt(renderSeconds * scale, 2)} s (render factor ${fmt(renderFactor, 2)}); Clapper's pipeline names the same limits and has \`run: ${JSON.stringify(clapperRun)}\` (its defaults × ${scale}); the baseline runs ${concurrency} jobs at once, polls every ${fmt(baselinePollMs)} ms and retries a 429 after ${fmt(baselineRetryMs)} ms (5 s and 1 s × ${scale}), 5 attempts per request, then gives the job up (it does not pace its requests). The quota's bound for n renders = n ÷ rate + one render (queue + render): **${seconds(boundFor(renders, oneRender))}** for ${fmt(renders)} (${real(boundFor(renders, oneRender))} unscaled: ${fmt(renders)} × ${seconds(spacing)} + ${seconds(oneRender)}). Makespan: Clapper from its first \`run.started\` to its last \`job.completed\` (the two runs of the shared key: the earlier start to the later end), the baseline from its start to its last file written. Refused = the simulator's \`stats.refused["POST /v1/videos"]\`; submits = every POST /v1/videos it received.

${markdownTable({
  header: [
    "",
    "completed",
    "makespan",
    "÷ bound",
    "… unscaled",
    "submits sent",
    "refused (429)",
    "refused ÷ submits",
    "paid renders",
    "other requests refused",
    "jobs failed",
    "wall time"
  ],
  rows: results.map((r) => [
    r.label,
    `${fmt(r.valid)} / ${fmt(r.renders)}`,
    seconds(r.makespanMs),
    r.completed === r.renders ? `${fmt(r.makespanMs / r.boundMs, 3)}×` : `— (${fmt(r.renders - r.completed)} not done)`,
    real(r.makespanMs),
    fmt(r.submitsSent),
    fmt(r.refused),
    percent(refusedShare(r)),
    fmt(r.accepted),
    fmt(r.otherRefused),
    fmt(r.failed),
    seconds(r.wallMs, 1)
  ])
})}

${verdicts.join("\n")}
`
  },
  startedAt,
  Date.now() - startedAt.getTime()
)
