/**
 * The two contenders, each run as its own process against a simulator: the Clapper CLI
 * (`clapper run FILE --base-url URL --json`, NDJSON events to a file) and the baseline script.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs"
import { join } from "node:path"
import type { RunEvent, RunSummary } from "../../src/runtime/events.ts"
import { placeholderMp4Bytes } from "../../src/sim/placeholderMp4.ts"
import { benchTmp, type Campaign } from "./campaign.ts"
import { flagEnv } from "./env.ts"
import { baselineScript, clapperCli, type ProcessRun, runProcess } from "./processes.ts"
import { benchApiKey } from "./simulator.ts"

export interface ClapperRun {
  readonly process: ProcessRun
  readonly events: ReadonlyArray<RunEvent>
  /** From run.finished (absent when the run did not finish normally). */
  readonly summary: RunSummary | undefined
}

let runs = 0

/**
 * `clapper run|plan FILE …` in the campaign's folder, as a user would type it. Clapper shares a
 * key's quota with the other Clapper processes of the machine through slot files under
 * `CLAPPER_QUOTA_DIR`: each run gets a fresh folder of its own (removed after it, kept with
 * `BENCH_KEEP`), never the user's, unless `env` names one (runs meant to share a key).
 */
export const runClapper = async (
  campaign: Campaign,
  command: "run" | "plan",
  baseUrl: string,
  /** Extra environment, e.g. `NODE_OPTIONS`, `CLAPPER_QUOTA_DIR`. */
  env: Readonly<Record<string, string>> = {}
): Promise<ClapperRun> => {
  const stdoutFile = join(campaign.root, `clapper-${command}-${++runs}.ndjson`)
  const args =
    command === "run" ? ["run", campaign.pipelineFile, "--base-url", baseUrl, "--json"] : ["plan", campaign.pipelineFile, "--json"]
  const ownQuotaDir = env["CLAPPER_QUOTA_DIR"] === undefined ? mkdtempSync(join(benchTmp(), "clapper-bench-quota-")) : undefined
  const process = await runProcess({
    script: clapperCli,
    args,
    env: { MIRAGE_API_KEY: benchApiKey, ...(ownQuotaDir === undefined ? {} : { CLAPPER_QUOTA_DIR: ownQuotaDir }), ...env },
    cwd: campaign.root,
    stdoutFile
  }).finally(() => {
    if (ownQuotaDir !== undefined && !flagEnv("BENCH_KEEP")) rmSync(ownQuotaDir, { recursive: true, force: true })
  })
  if (process.exitCode !== 0 && process.exitCode !== 1)
    throw new Error(`clapper ${command} exited with ${process.exitCode}:\n${process.stderrTail}`)
  const text = readFileSync(stdoutFile, "utf8")
  if (command === "plan") return { process, events: [], summary: undefined }
  const events = text
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => JSON.parse(line) as RunEvent)
  const finished = events.find((e) => e.type === "run.finished")
  // Exit 1 is a run with failed jobs; without run.finished it is a run that never got going.
  if (finished === undefined) throw new Error(`clapper run exited with ${process.exitCode} without run.finished:\n${process.stderrTail}`)
  return { process, events, summary: finished?.type === "run.finished" ? finished.summary : undefined }
}

/** What the baseline's --log holds. */
export interface BaselineLog {
  readonly startedAt: number
  readonly finishedAt: number
  readonly done: number
  readonly failed: number
  readonly counts: { readonly requests: number; readonly retries: number; readonly byStatus: Readonly<Record<string, number>> }
  readonly jobs: ReadonlyArray<{
    readonly output: string
    readonly submits: ReadonlyArray<{ readonly sentAt: number; readonly answeredAt: number; readonly videoId: string }>
    readonly statusRequests: number
    readonly failedVideos: number
    readonly downloadStartedAt?: number
    readonly doneAt?: number
    readonly error?: string
  }>
}

export interface BaselineOptions {
  readonly concurrency: number
  readonly pollMs: number
  readonly retryMs?: number
  readonly attempts?: number
  readonly skipExisting?: boolean
}

export interface BaselineRun {
  readonly process: ProcessRun
  readonly log: BaselineLog
}

export const runBaseline = async (campaign: Campaign, baseUrl: string, options: BaselineOptions): Promise<BaselineRun> => {
  const logFile = join(campaign.root, `baseline-${++runs}.json`)
  const args = [
    "--jobs",
    campaign.jobsFile,
    "--base-url",
    baseUrl,
    "--concurrency",
    String(options.concurrency),
    "--poll-ms",
    String(options.pollMs),
    "--retry-ms",
    String(options.retryMs ?? 1000),
    "--attempts",
    String(options.attempts ?? 5),
    "--log",
    logFile,
    ...(options.skipExisting ? ["--skip-existing"] : [])
  ]
  const process = await runProcess({ script: baselineScript, args, env: { MIRAGE_API_KEY: benchApiKey }, cwd: campaign.root })
  if (process.exitCode !== 0 && process.exitCode !== 1)
    throw new Error(`the baseline exited with ${process.exitCode}:\n${process.stderrTail}`)
  return { process, log: JSON.parse(readFileSync(logFile, "utf8")) as BaselineLog }
}

export interface OutputCheck {
  /** Outputs holding exactly the bytes the simulator served. */
  readonly valid: number
  readonly missing: number
  /** Present but not those bytes (partial, empty, other). */
  readonly corrupt: number
  /** Files in out/ that are no job's output (temporary files left behind). */
  readonly leftovers: number
}

/** Every output against the simulator's content (the placeholder MP4, byte for byte). */
export const checkOutputs = (campaign: Campaign): OutputCheck => {
  const expected = Buffer.from(placeholderMp4Bytes)
  let valid = 0
  let missing = 0
  let corrupt = 0
  for (const job of campaign.jobs) {
    const path = join(campaign.root, job.output)
    if (!existsSync(path)) missing++
    else if (readFileSync(path).equals(expected)) valid++
    else corrupt++
  }
  const outDir = join(campaign.root, "out")
  const names = new Set(campaign.jobs.map((j) => j.output.slice("out/".length)))
  const leftovers = existsSync(outDir) ? readdirSync(outDir).filter((name) => !names.has(name)).length : 0
  return { valid, missing, corrupt, leftovers }
}

/**
 * Loads both contenders once, unmeasured, so that no measured run pays for tsx compiling
 * sources that changed since the last run (its cache then serves every run, as for a user's
 * second command onward).
 */
export const warmUp = async (): Promise<void> => {
  await runProcess({ script: clapperCli, args: ["schema"] })
  await runProcess({ script: baselineScript, args: [] })
}
