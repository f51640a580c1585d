/**
 * Helpers for the failure-path tests: what most of them start with (a campaign in a throwaway
 * project, a simulator that outlives the runs of the test as the provider would, and the fault
 * proxy in front of it when the test needs one), the real `clapper` binary with its stdout,
 * stderr and events, the journal as the witness of what may have been paid twice, and file
 * system faults made for real (tmpfs that fills up, read-only bind mounts).
 */
import { execFileSync, spawn } from "node:child_process"
import { createHash } from "node:crypto"
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterEach, expect } from "vitest"
import type { RunSummary } from "../../src/runtime/events.ts"
import type * as Simulator from "../../src/sim/Simulator.ts"
import type { FaultProxy } from "../support/faultProxy.ts"
import { roomyQuotaFlags } from "../support/runCli.ts"
import { repoRoot, tempProject, type TempProject } from "../support/tempProject.ts"
import { type LiveSim, startProxy, startSim } from "../support/liveSimulator.ts"
import { makeWav } from "../support/wav.ts"

// The simulator's counters -------------------------------------------------------------------

export const posts = (stats: Simulator.SimStats) => stats.requests["POST /v1/videos"] ?? 0
export const statusPolls = (stats: Simulator.SimStats) => stats.requests["GET /v1/videos/{video_id}"] ?? 0
export const lists = (stats: Simulator.SimStats) => stats.requests["GET /v1/videos"] ?? 0
export const contentGets = (stats: Simulator.SimStats) => stats.requests["GET /v1/videos/{video_id}/content"] ?? 0
export const apiRequests = (stats: Simulator.SimStats) =>
  Object.entries(stats.requests)
    .filter(([route]) => route.includes("/v1/"))
    .reduce((sum, [, n]) => sum + n, 0)

// Mounts ---------------------------------------------------------------------------------------

const mounted: Array<string> = []

const sh = (command: string, args: ReadonlyArray<string>) => execFileSync(command, args, { stdio: "pipe" })

/** Why this process cannot make the file system faults these tests need (undefined: it can). */
export const mountProblem: string | undefined = (() => {
  const dir = mkdtempSync(join(tmpdir(), "clapper-mount-probe-"))
  try {
    sh("mount", ["-t", "tmpfs", "-o", "size=64k", "tmpfs", dir])
    sh("umount", [dir])
    sh("mount", ["--bind", dir, dir])
    try {
      sh("mount", ["-o", "remount,ro,bind", dir])
    } finally {
      sh("umount", [dir])
    }
    return undefined
  } catch (error) {
    return `mounting is not permitted here (${error instanceof Error ? error.message.split("\n")[0] : String(error)})`
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})()

/** A test title that says why the test is skipped, when it is. */
export const needsMounts = (title: string) => (mountProblem === undefined ? title : `${title} [skipped: ${mountProblem}]`)

export const mountTmpfs = (dir: string, size: string) => {
  mkdirSync(dir, { recursive: true })
  sh("mount", ["-t", "tmpfs", "-o", `size=${size}`, "tmpfs", dir])
  mounted.push(dir)
}

/** `dir` (or a file) made read-only where it is (a read-only bind mount of itself: chmod means nothing to root). */
export const mountReadOnly = (dir: string) => {
  if (!existsSync(dir)) mkdirSync(dir, { recursive: true })
  sh("mount", ["--bind", dir, dir])
  mounted.push(dir)
  sh("mount", ["-o", "remount,ro,bind", dir])
}

export const unmount = (dir: string) => {
  const at = mounted.lastIndexOf(dir)
  if (at >= 0) mounted.splice(at, 1)
  sh("umount", [dir])
}

/** Fills the file system holding `dir` to the last byte (the filler is `dir/filler`). */
export const fillUp = (dir: string) => {
  const fd = openSync(join(dir, "filler"), "w")
  const chunk = Buffer.alloc(4096, 7)
  try {
    for (;;) writeSync(fd, chunk)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOSPC") throw error
  } finally {
    closeSync(fd)
  }
}

// Runs after each test, before the simulators are closed and the project folders removed (hooks run in reverse order).
afterEach(() => {
  for (const dir of mounted.splice(0).reverse()) {
    try {
      sh("umount", [dir])
    } catch {
      sh("umount", ["-l", dir])
    }
  }
})

// Campaigns ------------------------------------------------------------------------------------

export interface RunBlock {
  readonly concurrency?: number
  readonly attempts?: number
  readonly initialDelay?: string
  readonly maxDelay?: string
  readonly patience?: string
  readonly interval?: string
  readonly maxInterval?: string
  readonly timeout?: string
}

/** Fast enough for a test, strict enough that a failing step fails in milliseconds. */
export const runBlock = (run: RunBlock = {}) => {
  const r = {
    concurrency: 2,
    attempts: 2,
    initialDelay: "10ms",
    maxDelay: "40ms",
    patience: "1ms",
    interval: "20ms",
    maxInterval: "100ms",
    ...run
  }
  return [
    "run:",
    `  concurrency: ${r.concurrency}`,
    "  requestsPerSecond: 500",
    `  retry: { attempts: ${r.attempts}, initialDelay: ${r.initialDelay}, maxDelay: ${r.maxDelay}, patience: ${r.patience} }`,
    `  poll: { interval: ${r.interval}, maxInterval: ${r.maxInterval} }`,
    ...(r.timeout ? [`  timeout: ${r.timeout}`] : [])
  ].join("\n")
}

export interface Campaign {
  readonly p: TempProject
  readonly root: string
  /** The pipeline file (campaign.yaml at the root). */
  readonly file: string
  /** `.clapper/campaign` */
  readonly stateDir: string
  readonly outputs: ReadonlyArray<string>
}

/**
 * A project whose pipeline renders one job per output, each with its own voice track (distinct
 * bytes, so each is its own render), all with the same presenter.
 */
export const campaign = (outputs: ReadonlyArray<string>, run: RunBlock = {}): Campaign => {
  const p = tempProject()
  const pairs = outputs.map((output, i) => {
    p.write(`voice/v${i}.wav`, makeWav(0.3, 300 + i * 11))
    return `      - { image: assets/presenters/alice.png, audio: voice/v${i}.wav, output: ${output} }`
  })
  const file = p.write(
    "campaign.yaml",
    ["version: 1", "name: campaign", runBlock(run), "sets:", "  all:", "    pairs:", ...pairs, ""].join("\n")
  )
  return { p, root: p.root, file, stateDir: join(p.root, ".clapper", "campaign"), outputs }
}

export interface Render {
  /** The job's id: its output, relative to the project root. */
  readonly id: string
  /** The simulator's key for its submissions: the SHA-256 of the image and of the audio it received. */
  readonly key: string
}

const sha256Of = (file: string) => createHash("sha256").update(readFileSync(file)).digest("hex")

/** The campaign's renders (one per output, as `campaign` made them). */
export const rendersOf = (c: Campaign): ReadonlyArray<Render> => {
  const image = sha256Of(join(c.root, "assets/presenters/alice.png"))
  return c.outputs.map((id, i) => ({ id, key: `${image}:${sha256Of(join(c.root, `voice/v${i}.wav`))}` }))
}

export const isMp4 = (file: string) => existsSync(file) && readFileSync(file).subarray(4, 8).toString("latin1") === "ftyp"

/** Files under `dir` whose name marks them temporary (`.x.part`, `x.copy.part`, `*.tmp`). */
export const temporaryFiles = (dir: string): ReadonlyArray<string> => {
  if (!existsSync(dir)) return []
  const found: Array<string> = []
  const walk = (d: string) => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const full = join(d, entry.name)
      if (entry.isDirectory()) walk(full)
      else if (/\.part$|\.tmp$/.test(entry.name)) found.push(full)
    }
  }
  walk(dir)
  return found
}

// The journal ----------------------------------------------------------------------------------

export interface JournalLine {
  readonly t: string
  readonly fp?: string
  readonly job?: string
  readonly videoId?: string
  readonly videoGone?: boolean
  readonly step?: string
  readonly reason?: string
  readonly state?: {
    readonly renders?: Record<string, { readonly job?: string; readonly possibleDuplicates?: number; readonly videoId?: string }>
  }
}

/** The journal's entries (a torn last line left out, as the runtime does). */
export const journal = (c: Campaign): ReadonlyArray<JournalLine> => {
  const file = join(c.stateDir, "journal.jsonl")
  if (!existsSync(file)) return []
  const out: Array<JournalLine> = []
  for (const line of readFileSync(file, "utf8").split("\n")) {
    if (line.trim() === "") continue
    try {
      out.push(JSON.parse(line) as JournalLine)
    } catch {
      // a torn last line
    }
  }
  return out
}

/** Possible duplicates the journal admits for a job's render (a compaction snapshot counts too). */
export const admittedDuplicates = (entries: ReadonlyArray<JournalLine>, job: string): number => {
  let n = 0
  for (const e of entries) {
    if (e.t === "snapshot")
      n = Object.values(e.state?.renders ?? {})
        .filter((r) => r.job === job)
        .reduce((sum, r) => sum + (r.possibleDuplicates ?? 0), 0)
    else if (e.t === "possibleDuplicate" && e.job === job) n++
  }
  return n
}

// The binary -----------------------------------------------------------------------------------

/** This test process's quota ledgers: never the user's own. */
const quotaDir = mkdtempSync(join(tmpdir(), "clapper-quota-failures-"))

export interface CliEvent {
  readonly type: string
  readonly job?: string
  readonly step?: string
  readonly videoId?: string
  readonly reason?: string
  readonly message?: string
  readonly summary?: RunSummary
}

export interface CliResult {
  /** The exit code; null when a signal ended the process. */
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
  readonly stdout: string
  readonly stderr: string
  /** With `--json`: every event. */
  readonly events: ReadonlyArray<CliEvent>
  readonly summary: RunSummary | undefined
}

export interface CliOptions {
  readonly cwd: string
  readonly env?: Record<string, string>
  /** Each event of `--json` output, with a way to signal the process. */
  readonly onEvent?: (event: CliEvent, signal: (s: NodeJS.Signals) => void) => void
  /** Each line of stdout (plain or JSON). */
  readonly onLine?: (line: string, signal: (s: NodeJS.Signals) => void) => void
  readonly killAfterMs?: number
  /** Called once the process is started, with a way to signal it (e.g. from a file watcher). */
  readonly onSpawn?: (signal: (s: NodeJS.Signals) => void) => void
}

/** Runs the real `clapper` binary, capturing stdout, stderr and (with --json) the events. */
export const clapper = (args: ReadonlyArray<string>, options: CliOptions): Promise<CliResult> =>
  new Promise((resolve) => {
    const child = spawn(process.execPath, [join(repoRoot, "bin", "clapper.js"), ...args], {
      cwd: options.cwd,
      env: { ...process.env, NO_COLOR: "1", CLAPPER_QUOTA_DIR: quotaDir, MIRAGE_API_KEY: "failure-test-key", ...options.env }
    })
    const signal = (s: NodeJS.Signals) => void child.kill(s)
    options.onSpawn?.(signal)
    const timer = setTimeout(() => signal("SIGKILL"), 60_000)
    const killer = options.killAfterMs === undefined ? undefined : setTimeout(() => signal("SIGKILL"), options.killAfterMs)
    let stdout = ""
    let stderr = ""
    let buffer = ""
    const events: Array<CliEvent> = []
    const json = (args[0] === "run" || args[0] === "worker") && args.includes("--json")
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString()
      buffer += chunk.toString()
      const lines = buffer.split("\n")
      buffer = lines.pop() ?? ""
      for (const line of lines) {
        options.onLine?.(line, signal)
        if (!json || line.trim() === "") continue
        const event = JSON.parse(line) as CliEvent
        events.push(event)
        options.onEvent?.(event, signal)
      }
    })
    child.stderr.on("data", (chunk: Buffer) => void (stderr += chunk.toString()))
    child.on("close", (code, sig) => {
      clearTimeout(timer)
      if (killer) clearTimeout(killer)
      const finished = events.find((e) => e.type === "run.finished")
      resolve({ code, signal: sig, stdout, stderr, events, summary: finished?.summary })
    })
  })

export type RunCampaignOptions = Omit<CliOptions, "cwd"> & {
  /** `--json` (the default), its events in the result. */
  readonly json?: boolean
  readonly args?: ReadonlyArray<string>
}

/** `clapper run campaign.yaml --base-url URL --quota all=… [--json]` in the campaign's folder. */
const runCampaign = (c: Campaign, baseUrl: string, options: RunCampaignOptions = {}) =>
  clapper(
    [
      "run",
      "campaign.yaml",
      "--base-url",
      baseUrl,
      ...roomyQuotaFlags,
      ...(options.json === false ? [] : ["--json"]),
      ...(options.args ?? [])
    ],
    {
      cwd: c.root,
      ...options
    }
  )

// What most tests start with ----------------------------------------------------------------

export interface SceneOptions {
  /** The pipeline's `run:` block (fast by default: see `runBlock`). */
  readonly policy?: RunBlock
  readonly sim?: Partial<Simulator.SimulatorOptions>
}

export interface OnSimulator {
  readonly c: Campaign
  /** Outlives the test's runs, as the provider would; closed after the test. */
  readonly sim: LiveSim
  /** `clapper run` of the campaign against the simulator (with `--json` unless told). */
  readonly run: (options?: RunCampaignOptions) => Promise<CliResult>
}

export interface BehindProxy extends OnSimulator {
  /** In front of the simulator's API and file host, forwarding everything until its rule is set. */
  readonly proxy: FaultProxy
  /** `clapper run` of the campaign through the proxy. */
  readonly run: (options?: RunCampaignOptions) => Promise<CliResult>
}

/** A campaign of `outputs` (see `campaign`) and a simulator to run it on. */
export const onSimulator = async (outputs: ReadonlyArray<string>, options: SceneOptions = {}): Promise<OnSimulator> => {
  const c = campaign(outputs, options.policy)
  const sim = await startSim(options.sim)
  return { c, sim, run: (runOptions) => runCampaign(c, sim.baseUrl, runOptions) }
}

/** A campaign of `outputs`, a simulator, and the fault proxy the runs go through. */
export const behindFaultProxy = async (outputs: ReadonlyArray<string>, options: SceneOptions = {}): Promise<BehindProxy> => {
  const { c, sim } = await onSimulator(outputs, options)
  const proxy = await startProxy(sim)
  return { c, sim, proxy, run: (runOptions) => runCampaign(c, proxy.baseUrl, runOptions) }
}

// What a user sees ---------------------------------------------------------------------------

/** What a user must never see: a crash report. */
export const expectNoCrash = (result: { readonly stderr: string; readonly stdout: string }) => {
  expect(result.stderr).not.toMatch(/internal error/i)
  expect(result.stdout).not.toMatch(/internal error/i)
  // No stack trace: no "    at f (file:line:col)" lines.
  expect(result.stderr).not.toMatch(/^\s+at .+:\d+:\d+\)?$/m)
}

/** The command ended by itself with `code`, and crashed nowhere. */
export const expectExit = (result: CliResult, code: number) => {
  expectNoCrash(result)
  // With --json, stdout is the events: stderr says why.
  expect(result.code, result.events.length > 0 ? result.stderr : result.stdout + result.stderr).toBe(code)
}

/** The one line the command wrote on stderr (and that it wrote one). */
export const onlyErrorLine = (result: CliResult): string => {
  const lines = result.stderr.split("\n").filter((line) => line.trim() !== "")
  expect(lines, result.stderr).toHaveLength(1)
  return lines[0] ?? ""
}

/** The witness of "paid once": every render of the campaign reached the simulator exactly once. */
export const expectEachPaidOnce = (c: Campaign, stats: Simulator.SimStats) => {
  for (const job of rendersOf(c)) expect(stats.submissions[job.key], job.id).toBe(1)
}

export const expectOutputsAreMp4 = (c: Campaign) => {
  for (const output of c.outputs) expect(isMp4(join(c.root, output)), output).toBe(true)
}
