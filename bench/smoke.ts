/**
 * `npm run bench:smoke`: every benchmark once at tiny sizes, to prove they still run (a minute or
 * two, not part of `npm test`). Tables are printed, BENCHMARKS.md is left alone.
 */
import { spawnSync } from "node:child_process"
import { join } from "node:path"
import { repoRoot } from "./support/processes.ts"

const runs: ReadonlyArray<{ readonly script: string; readonly env: Readonly<Record<string, string>> }> = [
  { script: "overhead.ts", env: { BENCH_JOBS: "100", BENCH_CONCURRENCY: "16" } },
  { script: "makespan.ts", env: { BENCH_JOBS: "40", BENCH_CONCURRENCY: "10", BENCH_SCALE: "0.01" } },
  { script: "polling.ts", env: { BENCH_JOBS: "20", BENCH_CONCURRENCY: "10", BENCH_SCALE: "0.02" } },
  { script: "resume.ts", env: { BENCH_JOBS: "100", BENCH_CONCURRENCY: "16", BENCH_REPEAT: "1" } },
  { script: "faults.ts", env: { BENCH_JOBS: "40", BENCH_CONCURRENCY: "10", BENCH_SCALE: "0.01", BENCH_THROTTLE: "100" } },
  { script: "quota.ts", env: { BENCH_RENDERS: "6", BENCH_SCALE: "0.03" } },
  { script: "scale.ts", env: { BENCH_SCALE_SIZES: "2000" } },
  { script: "cluster.ts", env: { BENCH_RENDERS: "40" } }
]

const failed: Array<string> = []
for (const run of runs) {
  const started = Date.now()
  console.log(
    `\n=== ${run.script} ${Object.entries(run.env)
      .map(([k, v]) => `${k}=${v}`)
      .join(" ")}`
  )
  const result = spawnSync(process.execPath, ["--import", import.meta.resolve("tsx"), join(repoRoot, "bench", run.script)], {
    cwd: repoRoot,
    env: { ...process.env, ...run.env, BENCH_REPORT: "-", BENCH_REPEAT: run.env["BENCH_REPEAT"] ?? "1" },
    stdio: "inherit"
  })
  console.log(
    `=== ${run.script}: ${result.status === 0 ? "ok" : `FAILED (exit ${result.status})`} in ${((Date.now() - started) / 1000).toFixed(1)} s`
  )
  if (result.status !== 0) failed.push(run.script)
}
if (failed.length > 0) {
  console.error(`\nbench:smoke: ${failed.join(", ")} failed`)
  process.exit(1)
}
console.log("\nbench:smoke: every benchmark ran")
