/**
 * Checks a run makes at the provider before its first paid request: what `plan` can find out
 * there must not be found only after videos were paid for (an unknown caption template id would
 * otherwise surface as a 422 at the captions step, each render already billed).
 */
import { Effect, Either } from "effect"
import { MirageClient } from "../mirage/MirageClient.ts"
import { PipelineInvalid, type Diagnostic } from "../pipeline/diagnostic.ts"
import type { LoadedPipeline } from "../pipeline/load.ts"
import { locate } from "../pipeline/yamlSource.ts"
import type { Plan } from "../plan/plan.ts"

/**
 * Every caption template the plan uses exists at the provider. A template the provider answers
 * 404 for is an error at its line; a check that cannot be made (an outage) lets the run go on,
 * which then waits for the API as it does for any request.
 */
export const checkTemplatesBeforePaying = (pipeline: LoadedPipeline, plan: Plan): Effect.Effect<void, PipelineInvalid, MirageClient> =>
  Effect.gen(function* () {
    const client = yield* MirageClient
    const used = new Map<string, string>()
    for (const job of plan.jobs) if (job.stages.captions) used.set(job.stages.captions.template, job.set)
    const diagnostics: Array<Diagnostic> = []
    yield* Effect.forEach(
      used,
      ([template, set]) =>
        Effect.map(Effect.either(client.getCaptionTemplate(template)), (found) => {
          if (Either.isLeft(found) && found.left._tag === "NotFound") {
            diagnostics.push({
              file: pipeline.file,
              ...locate(pipeline.source, ["sets", set, "captions", "template"]),
              message: `caption template "${template}" does not exist at the provider: nothing was sent (clapper sim and GET /v1/videos/captions/templates list the templates)`
            })
          }
        }),
      { concurrency: 4, discard: true }
    )
    if (diagnostics.length > 0) return yield* Effect.fail(new PipelineInvalid({ diagnostics }))
  })
