/**
 * Every contender runs in a process of its own, started as its users would start it (`node`, plus
 * `--import tsx` for a TypeScript script) with `--import bench/support/rusage.mjs`, while the
 * simulator runs in the benchmark's process:
 * - the contender's CPU time and peak RSS are its own (the kernel's counters for that process),
 *   never mixed with the simulator's work or the harness's;
 * - each contender starts cold, as a user's command does, and nothing one leaves behind (heap,
 *   sockets, timers) can slow the next;
 * - on this 2-core machine the simulator and the contender each get a core.
 */
import { spawn } from "node:child_process"
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"

export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), "..", "..")

const rusagePreload = join(repoRoot, "bench", "support", "rusage.mjs")
/** tsx's loader by absolute URL: the contender's working directory is a throwaway project. */
const tsxLoader = import.meta.resolve("tsx")

/**
 * `BENCH_NODE_ARGS` (space-separated) go to every contender's `node`: `--cpu-prof --cpu-prof-dir=DIR`
 * or `--heap-prof`, which Node refuses in `NODE_OPTIONS`.
 */
const nodeArgs = (process.env["BENCH_NODE_ARGS"] ?? "").split(" ").filter((arg) => arg !== "")

/** CPU time of every contender process run so far (to tell the machine's other load apart). */
export const childCpu = { ms: 0 }

export interface ProcessRun {
  readonly exitCode: number | null
  /** From spawn to exit, as the parent saw it. */
  readonly wallMs: number
  readonly userCpuMs: number
  readonly systemCpuMs: number
  readonly cpuMs: number
  /** The process's peak resident set (ru_maxrss), in MiB. */
  readonly maxRssMB: number
  /** The last lines of stderr, for a failed run. */
  readonly stderrTail: string
}

export interface ProcessSpec {
  /** The entry point (absolute, or relative to the repository); a `.ts` one runs through tsx. */
  readonly script: string
  readonly args: ReadonlyArray<string>
  readonly env?: Readonly<Record<string, string>>
  readonly cwd?: string
  /** Where stdout goes (a file); default: discarded. */
  readonly stdoutFile?: string
}

/** Runs `node [--import tsx] --import rusage.mjs SCRIPT ARGS…` to completion and measures it. */
export const runProcess = (spec: ProcessSpec): Promise<ProcessRun> =>
  new Promise((resolve, reject) => {
    const work = mkdtempSync(join(tmpdir(), "clapper-bench-rusage-"))
    const rusageFile = join(work, "rusage.json")
    const stdout = spec.stdoutFile === undefined ? "ignore" : openSync(spec.stdoutFile, "w")
    const started = process.hrtime.bigint()
    const child = spawn(
      process.execPath,
      [...nodeArgs, ...(spec.script.endsWith(".ts") ? ["--import", tsxLoader] : []), "--import", rusagePreload, spec.script, ...spec.args],
      {
        cwd: spec.cwd ?? repoRoot,
        env: { ...process.env, ...spec.env, BENCH_RUSAGE_FILE: rusageFile },
        stdio: ["ignore", stdout, "pipe"]
      }
    )
    let stderr = ""
    child.stderr?.setEncoding("utf8")
    child.stderr?.on("data", (text: string) => {
      stderr = (stderr + text).slice(-4000)
    })
    child.on("error", reject)
    child.on("close", (code) => {
      const wallMs = Number(process.hrtime.bigint() - started) / 1e6
      if (typeof stdout === "number") closeSync(stdout)
      try {
        const usage = JSON.parse(readFileSync(rusageFile, "utf8")) as { userCpuMs: number; systemCpuMs: number; maxRssMB: number }
        childCpu.ms += usage.userCpuMs + usage.systemCpuMs
        resolve({
          exitCode: code,
          wallMs,
          userCpuMs: usage.userCpuMs,
          systemCpuMs: usage.systemCpuMs,
          cpuMs: usage.userCpuMs + usage.systemCpuMs,
          maxRssMB: usage.maxRssMB,
          stderrTail: stderr
        })
      } catch (error) {
        reject(new Error(`${spec.script} exited with ${code} and left no resource usage: ${String(error)}\n${stderr}`))
      } finally {
        rmSync(work, { recursive: true, force: true })
      }
    })
  })

/** The Clapper CLI as users start it (its bundle, built on first use: see bin/launch.js). */
export const clapperCli = join(repoRoot, "bin", "clapper.js")

/** The hand-written script Clapper is compared with. */
export const baselineScript = join(repoRoot, "bench", "baseline.ts")
