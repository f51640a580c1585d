/**
 * Benchmark 7, scale: campaigns of 100,000 and 1,000,000 jobs (one `rows` set over a few hundred
 * distinct images and audios, `bench/support/scaleCampaign.ts`), each command run as a user runs
 * it, in its own process: wall time, CPU time and peak RSS. `BENCH_SCALE_SIZES` (a comma list,
 * default `100000,1000000`), `BENCH_SCALE_IMAGES` (300), `BENCH_SCALE_AUDIOS` (200),
 * `BENCH_REPEAT` (1; the median is shown).
 *
 * The measurements are steps: each says at which sizes it runs, what it measures and what it
 * must stay under. `validate` and `plan --json` run at every size; `run` (simulator at render
 * factor 0, roomy quotas) and its resume at sizes up to `BENCH_SCALE_RUN_MAX` (100000), on a
 * project of their own whose rows share fewer renders (`BENCH_SCALE_RUN_IMAGES` ×
 * `BENCH_SCALE_RUN_AUDIOS`, 100 × 100: 10,000 renders at 100,000 rows; every row still gets its
 * own output file), so the run measures what 100,000 jobs cost to hold, not hours of rendering.
 */
import { closeSync, openSync, readSync, statSync } from "node:fs"
import { join } from "node:path"
import { mkdtempSync, rmSync } from "node:fs"
import { benchTmp } from "./support/campaign.ts"
import { warmUp } from "./support/contenders.ts"
import { integerEnv } from "./support/env.ts"
import { fmt, median, seconds } from "./support/numbers.ts"
import { clapperCli, type ProcessRun, runProcess } from "./support/processes.ts"
import { markdownTable, publish, verdictAtMost } from "./support/report.ts"
import { roomySim } from "./support/quotas.ts"
import { makeScaleCampaign, type ScaleCampaign } from "./support/scaleCampaign.ts"
import { apiRequests, benchApiKey, withSimulator } from "./support/simulator.ts"

const startedAt = new Date()

const sizes = (process.env["BENCH_SCALE_SIZES"] ?? "100000,1000000")
  .split(",")
  .map((s) => s.trim().replace(/[_,]/g, ""))
  .filter((s) => s !== "")
  .map((s) => {
    const n = Number(s)
    if (!Number.isInteger(n) || n < 1) throw new Error(`BENCH_SCALE_SIZES must list whole numbers ≥ 1, got "${s}"`)
    return n
  })
const images = integerEnv("BENCH_SCALE_IMAGES", 300)
const audios = integerEnv("BENCH_SCALE_AUDIOS", 200)
const repeat = integerEnv("BENCH_REPEAT", 1)
const runMax = integerEnv("BENCH_SCALE_RUN_MAX", 100_000)
const runImages = integerEnv("BENCH_SCALE_RUN_IMAGES", 100)
const runAudios = integerEnv("BENCH_SCALE_RUN_AUDIOS", 100)
/** The run's own settings: nothing paces it but Clapper's own work (as in benchmark 1). */
const runSettings = "{ concurrency: 64, requestsPerSecond: 100000, poll: { interval: 1ms, maxInterval: 1ms } }"

/** The most a step may take at a size: what the issue asks for. */
interface Target {
  readonly wallMs: number
  readonly maxRssMB: number
}

/** One measured command: its process, or why it gave no figures (a crash leaves no resource usage). */
type Sample = { readonly process: ProcessRun; readonly problem?: string } | { readonly process?: undefined; readonly problem: string }

interface Step {
  /** The command as shown, e.g. "`clapper validate`". */
  readonly label: string
  /** Sizes it runs at. */
  readonly runsAt: (jobs: number) => boolean
  readonly target: (jobs: number) => Target | undefined
  /** The project it runs on: the plain one, or the run's (fewer renders, `run:` settings). */
  readonly project: "plan" | "run"
  /** Runs it once; `problem` when its result is wrong (the figures are still shown). */
  readonly measure: (campaign: ScaleCampaign, round: number) => Promise<Sample>
  /** Facts about its output worth a column (sizes of files it wrote), from the last round. */
  readonly note?: (campaign: ScaleCampaign, round: number) => string
}

/** The issue's targets for checking and planning: 2 s and 300 MB at 100,000 jobs, 20 s and 1.5 GB at 1,000,000. */
const planTarget = (jobs: number): Target | undefined =>
  jobs <= 100_000 ? { wallMs: 2_000, maxRssMB: 300 } : jobs <= 1_000_000 ? { wallMs: 20_000, maxRssMB: 1_536 } : undefined

/** The line of a failed command's stderr that says what went wrong (`RangeError: …`), else its last. */
const whatWentWrong = (stderr: string): string => {
  const lines = stderr
    .trim()
    .split("\n")
    .map((line) => line.trim())
  return lines.find((line) => /^\w*Error\b|^error:|out of memory/i.test(line)) ?? lines.pop() ?? ""
}

/** `node bin/clapper.js ARGS…` in the campaign's folder; a crash is a sample with a problem. */
const clapper = async (
  campaign: ScaleCampaign,
  args: ReadonlyArray<string>,
  stdoutFile: string,
  env: Readonly<Record<string, string>> = {}
): Promise<Sample> => {
  try {
    const process = await runProcess({ script: clapperCli, args, cwd: campaign.root, stdoutFile, env })
    return process.exitCode === 0 ? { process } : { process, problem: `exit ${process.exitCode}: ${whatWentWrong(process.stderrTail)}` }
  } catch (error) {
    // No resource usage: the process died before its exit handler (out of memory, a signal).
    return { problem: `crashed: ${whatWentWrong(String(error instanceof Error ? error.message : error))}` }
  }
}

const tail = (file: string, bytes: number): string => {
  const fd = openSync(file, "r")
  try {
    const size = statSync(file).size
    const buffer = Buffer.alloc(Math.min(bytes, size))
    readSync(fd, buffer, 0, buffer.length, size - buffer.length)
    return buffer.toString("utf8")
  } finally {
    closeSync(fd)
  }
}

const megabytes = (bytes: number) => `${fmt(bytes / 2 ** 20, bytes < 10 * 2 ** 20 ? 1 : 0)} MB`

const validateOut = (campaign: ScaleCampaign, round: number) => join(campaign.root, `validate-${round}.txt`)
const planOut = (campaign: ScaleCampaign, round: number) => join(campaign.root, `plan-${round}.json`)
const runOut = (campaign: ScaleCampaign, label: string, round: number) => join(campaign.root, `${label}-${round}.ndjson`)

/** The issue's target for a run of 100,000 jobs: under 600 MB peak RSS (its time is the renders'). */
const runTarget = (jobs: number): Target | undefined => (jobs <= 100_000 ? { wallMs: Number.POSITIVE_INFINITY, maxRssMB: 600 } : undefined)

/** What the run's `run.finished` summary says, from the last line of its NDJSON. */
const finished = (file: string): { readonly completed: number; readonly failed: number; readonly upToDate: number } | undefined => {
  const last = tail(file, 64 * 1024 * 1024)
    .trim()
    .split("\n")
    .reverse()
    .find((line) => line.includes('"run.finished"'))
  if (last === undefined) return undefined
  const summary = (JSON.parse(last) as { summary: { completed: unknown[]; failed: unknown[]; upToDate: unknown[] } }).summary
  return { completed: summary.completed.length, failed: summary.failed.length, upToDate: summary.upToDate.length }
}

const fileSize = (path: string) => {
  try {
    return statSync(path).size
  } catch {
    return 0
  }
}
const stateNote = (campaign: ScaleCampaign) =>
  `lock ${megabytes(fileSize(campaign.pipelineFile.replace(/\.yaml$/, ".lock.json")))}, journal ${megabytes(
    fileSize(join(campaign.root, ".clapper", "scale", "journal.jsonl"))
  )}`

/**
 * `clapper run --json` against a simulator in this process; `expect` checks the summary and the
 * requests it took. The quota ledger gets a folder of its own (none is shared with other runs).
 */
const runOnSimulator = async (
  campaign: ScaleCampaign,
  out: string,
  expect: (summary: ReturnType<typeof finished>, requests: number, routes: string) => string | undefined
): Promise<Sample> => {
  const quotaDir = mkdtempSync(join(benchTmp(), "clapper-bench-quota-"))
  try {
    const { result, stats } = await withSimulator({ ...roomySim, renderFactor: 0 }, (sim) =>
      clapper(campaign, ["run", campaign.pipelineFile, "--base-url", sim.baseUrl, "--json"], out, {
        MIRAGE_API_KEY: benchApiKey,
        CLAPPER_QUOTA_DIR: quotaDir
      })
    )
    if (result.problem !== undefined) return result
    const routes = Object.entries(stats.requests)
      .filter(([route]) => route.includes(" /v1/"))
      .map(([route, n]) => `${route} ${n}`)
      .join(", ")
    const problem = expect(finished(out), apiRequests(stats), routes)
    return problem === undefined ? result : { ...result, problem }
  } finally {
    rmSync(quotaDir, { recursive: true, force: true })
  }
}

const steps: ReadonlyArray<Step> = [
  {
    label: "`clapper validate`",
    project: "plan",
    runsAt: () => true,
    target: planTarget,
    measure: async (campaign, round) => {
      const out = validateOut(campaign, round)
      const sample = await clapper(campaign, ["validate", campaign.pipelineFile], out)
      if (sample.problem !== undefined) return sample
      const said = tail(out, 400)
      return said.includes(`ok, ${campaign.rows} jobs`) ? sample : { ...sample, problem: `said ${JSON.stringify(said.trim())}` }
    }
  },
  {
    label: "`clapper plan --json` (to a file)",
    project: "plan",
    runsAt: () => true,
    target: planTarget,
    measure: async (campaign, round) => {
      const out = planOut(campaign, round)
      const sample = await clapper(campaign, ["plan", campaign.pipelineFile, "--json"], out)
      if (sample.problem !== undefined) return sample
      // The totals come last: the whole plan was written.
      const end = tail(out, 4_000).replace(/\s+/g, "")
      const expected = [`"jobs":${campaign.rows}`, `"renders":${campaign.renders}`]
      return expected.every((e) => end.includes(e)) ? sample : { ...sample, problem: "the JSON's totals are not the campaign's" }
    },
    note: (campaign, round) => `JSON ${megabytes(statSync(planOut(campaign, round)).size)}`
  },
  {
    label: "`clapper run --json` (simulator, render factor 0)",
    project: "run",
    runsAt: (jobs) => jobs <= runMax,
    target: runTarget,
    measure: (campaign, round) =>
      runOnSimulator(campaign, runOut(campaign, "run", round), (summary, requests, routes) => {
        // Later rounds find everything done: only the first renders.
        if (round > 1) return undefined
        if (summary === undefined) return "no run.finished"
        if (summary.completed !== campaign.rows) return `${summary.completed} of ${campaign.rows} completed, ${summary.failed} failed`
        return requests === 3 * campaign.renders
          ? undefined
          : `${requests} API requests for ${campaign.renders} renders (3 each expected: ${routes})`
      }),
    note: stateNote
  },
  {
    label: "`clapper run` again (resume: every job up to date)",
    project: "run",
    runsAt: (jobs) => jobs <= runMax,
    target: (jobs) => (jobs <= 100_000 ? { wallMs: 5_000, maxRssMB: Number.POSITIVE_INFINITY } : undefined),
    measure: (campaign, round) =>
      runOnSimulator(campaign, runOut(campaign, "resume", round), (summary, requests, routes) => {
        if (summary === undefined) return "no run.finished"
        if (summary.upToDate !== campaign.rows) return `${summary.upToDate} of ${campaign.rows} up to date`
        return requests === 0 ? undefined : `${requests} API requests (0 expected: ${routes})`
      }),
    note: stateNote
  }
]

interface Row {
  readonly jobs: number
  readonly step: Step
  readonly samples: ReadonlyArray<Sample>
  readonly note: string
  readonly renders: number
}

await warmUp()
const rows: Array<Row> = []
for (const jobs of sizes) {
  for (const project of ["plan", "run"] as const) {
    const chosen = steps.filter((s) => s.project === project && s.runsAt(jobs))
    if (chosen.length === 0) continue
    const made = Date.now()
    const campaign =
      project === "plan"
        ? makeScaleCampaign({ name: "scale", rows: jobs, images, audios })
        : makeScaleCampaign({ name: "scale", rows: jobs, images: runImages, audios: runAudios, run: runSettings })
    console.error(`${fmt(jobs)} jobs: ${project} project made in ${seconds(Date.now() - made, 1)} (${campaign.root})`)
    try {
      for (const step of chosen) {
        const samples: Array<Sample> = []
        let note = ""
        for (let round = 1; round <= repeat; round++) {
          const sample = await step.measure(campaign, round)
          samples.push(sample)
          if (sample.problem === undefined && step.note) note = step.note(campaign, round)
          console.error(
            `${fmt(jobs)} jobs, ${step.label}: ${
              sample.process ? `${seconds(sample.process.wallMs)}, ${fmt(sample.process.maxRssMB)} MB peak RSS` : "no figures"
            }${sample.problem ? ` — ${sample.problem}` : ""}`
          )
        }
        rows.push({ jobs, step, samples, note, renders: campaign.renders })
      }
    } finally {
      campaign.remove()
    }
  }
}

const measured = (row: Row) => row.samples.flatMap((s) => (s.process ? [s.process] : []))
const verdicts = rows.flatMap((row) => {
  const target = row.step.target(row.jobs)
  if (target === undefined) return []
  const runs = measured(row)
  const about = `${fmt(row.jobs)} jobs, ${row.step.label}`
  if (runs.length === 0) return [`- ${about}: **missed** (${row.samples[0]?.problem ?? "no figures"}).`]
  const verdict = [
    ...(Number.isFinite(target.wallMs)
      ? [`time ${verdictAtMost(median(runs.map((r) => r.wallMs)) / 1000, target.wallMs / 1000, (x) => `${fmt(x, 2)} s`)}`]
      : []),
    ...(Number.isFinite(target.maxRssMB)
      ? [`peak RSS ${verdictAtMost(median(runs.map((r) => r.maxRssMB)), target.maxRssMB, (x) => `${fmt(x)} MB`)}`]
      : [])
  ]
  return [`- ${about}: ${verdict.join("; ")}.`]
})

publish(
  {
    name: "scale",
    script: "bench:scale",
    body: `
One \`rows\` set of N rows (tiny PNGs and 1–1.9 s WAVs; row i takes image i mod I and audio ⌊i / I⌋ mod A), output \`out/{{ row.id }}-{{ row.name | slug }}.mp4\`. Validate and plan: ${fmt(images)} images × ${fmt(audios)} audios, nothing rendered yet. Run and resume: a project of their own with ${fmt(runImages)} × ${fmt(runAudios)}, so the rows share at most ${fmt(runImages * runAudios)} renders (every row still gets its own output file, copied from its render's), on the simulator in the benchmark's process at render factor 0 with roomy quotas, concurrency 64; the resume is the same command again. Each command in its own process (\`node bin/clapper.js …\`, its bundle), ${repeat === 1 ? "run once" : `median of ${repeat} runs`}; stdout to a file.

${markdownTable({
  header: ["jobs", "renders", "command", "wall time", "CPU time", "peak RSS", "output", "problem"],
  rows: rows.map((row) => {
    const runs = measured(row)
    const figure = (pick: (r: ProcessRun) => number, show: (x: number) => string) =>
      runs.length === 0 ? "—" : show(median(runs.map(pick)))
    return [
      fmt(row.jobs),
      fmt(row.renders),
      row.step.label,
      figure(
        (r) => r.wallMs,
        (x) => seconds(x)
      ),
      figure(
        (r) => r.cpuMs,
        (x) => seconds(x)
      ),
      figure(
        (r) => r.maxRssMB,
        (x) => `${fmt(x)} MB`
      ),
      row.note || "—",
      row.samples.find((s) => s.problem !== undefined)?.problem ?? "—"
    ]
  })
})}

${verdicts.join("\n")}
`
  },
  startedAt,
  Date.now() - startedAt.getTime()
)
