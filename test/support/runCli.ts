/** Runs the real `clapper` binary (as a user would) and captures what it printed and its exit code. */
import { execFile, spawn } from "node:child_process"
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { repoRoot } from "./tempProject.ts"

/** The key quota ledgers of the CLI runs of this test process: never the user's own. */
const quotaDir = mkdtempSync(join(tmpdir(), "clapper-quota-"))

/** For a test's pipeline run against a simulator with roomy quotas: the run paces to the same. */
export const roomyQuotaFlags = ["--quota", "all=1000000/min"] as const

export interface CliResult {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

export const runCli = (
  args: ReadonlyArray<string>,
  options: { cwd?: string; env?: Record<string, string | undefined> } = {}
): Promise<CliResult> =>
  new Promise((resolve) => {
    execFile(
      process.execPath,
      [join(repoRoot, "bin", "clapper.js"), ...args],
      {
        cwd: options.cwd ?? repoRoot,
        env: { ...process.env, NO_COLOR: "1", CLAPPER_QUOTA_DIR: quotaDir, ...options.env },
        timeout: 60_000
      },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === "number" ? error.code : 1) : 0
        resolve({ code, stdout, stderr })
      }
    )
  })

/** A NDJSON event of `clapper run --json`, as far as these tests look at it. */
export interface CliEvent {
  readonly type: string
  readonly step?: string
  readonly videoId?: string
}

/**
 * Runs `clapper run … --json` (the real binary) and hands each event to `onEvent` with a way to
 * send the process a signal, for tests that stop a run at a chosen moment. Resolves with the
 * exit code (null when a signal ended it).
 */
export const watchCliRun = (
  args: ReadonlyArray<string>,
  options: {
    cwd: string
    env?: Record<string, string>
    onEvent: (event: CliEvent, signal: (s: NodeJS.Signals) => void) => void
    killAfterMs?: number
  }
): Promise<number | null> =>
  new Promise((resolve) => {
    const child = spawn(process.execPath, [join(repoRoot, "bin", "clapper.js"), ...args], {
      cwd: options.cwd,
      env: { ...process.env, CLAPPER_QUOTA_DIR: quotaDir, ...options.env }
    })
    const signal = (s: NodeJS.Signals) => void child.kill(s)
    if (options.killAfterMs !== undefined) setTimeout(() => signal("SIGKILL"), options.killAfterMs)
    let buffer = ""
    child.stdout.on("data", (chunk: Buffer) => {
      buffer += chunk.toString()
      const lines = buffer.split("\n")
      buffer = lines.pop() ?? ""
      for (const line of lines) options.onEvent(JSON.parse(line) as CliEvent, signal)
    })
    child.on("exit", (code) => resolve(code))
  })
