/** Runs the real `clapper` binary (as a user would) and captures what it printed and its exit code. */
import { execFile } from "node:child_process"
import { join } from "node:path"
import { repoRoot } from "./tempProject.ts"

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
      { cwd: options.cwd ?? repoRoot, env: { ...process.env, NO_COLOR: "1", ...options.env }, timeout: 60_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === "number" ? error.code : 1) : 0
        resolve({ code, stdout, stderr })
      }
    )
  })
