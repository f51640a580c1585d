/**
 * Clapper inside another TypeScript program: check a campaign, then render it, reacting to
 * events as they come. Runs on the built-in simulator, so it needs no key:
 *
 *   npx tsx examples/embed.ts
 *
 * For the real API, use `backend: { _tag: "Api" }` and set MIRAGE_API_KEY (or the variable the
 * pipeline's provider.apiKeyEnv names).
 */
import { PipelineInvalid, formatDiagnostic, runPipelinePromise, validatePipelinePromise } from "../src/index.ts"

const pipeline = new URL("../pipelines/quickstart.yaml", import.meta.url).pathname

try {
  const plan = await validatePipelinePromise(pipeline)
  console.log(`${plan.pipeline.name}: ${plan.totals.jobs} jobs, about $${plan.totals.estimatedCostUsd.toFixed(2)}`)

  const summary = await runPipelinePromise(pipeline, {
    backend: { _tag: "Simulator", options: { renderFactor: 1 } },
    onEvent: (event) => {
      if (event.type === "job.completed") console.log(`done: ${event.output}`)
      if (event.type === "job.failed") console.log(`failed: ${event.job}: ${event.reason}`)
    }
  })
  console.log(`${summary.completed.length} completed, ${summary.failed.length} failed in ${(summary.elapsedMs / 1000).toFixed(1)} s`)
  process.exitCode = summary.failed.length > 0 ? 1 : 0
} catch (error) {
  if (!(error instanceof PipelineInvalid)) throw error
  console.error(error.diagnostics.map(formatDiagnostic).join("\n"))
  process.exitCode = 2
}
