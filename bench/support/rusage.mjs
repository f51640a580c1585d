/**
 * Preloaded into every contender's process (`node --import ./bench/support/rusage.mjs …`; plain
 * JavaScript, so a contender that is JavaScript runs without tsx, as its users would run it):
 * when the process exits, its own resource usage (CPU time, peak RSS) is written as JSON to
 * `BENCH_RUSAGE_FILE`. The kernel's peak resident set (getrusage ru_maxrss) is exact, where
 * sampling `memoryUsage()` every few milliseconds could miss a short peak.
 */
import { writeFileSync } from "node:fs"

const file = process.env["BENCH_RUSAGE_FILE"]
if (file !== undefined && file !== "") {
  process.on("exit", (code) => {
    const usage = process.resourceUsage()
    writeFileSync(
      file,
      JSON.stringify({
        exitCode: code,
        userCpuMs: usage.userCPUTime / 1000,
        systemCpuMs: usage.systemCPUTime / 1000,
        maxRssMB: usage.maxRSS / 1024,
        uptimeMs: process.uptime() * 1000
      })
    )
  })
}
