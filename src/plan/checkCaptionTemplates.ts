/**
 * Caption template ids checked against the provider, when a key is at hand: a typo in a template
 * id is found at plan time, at its line, not after the videos were paid for. Without a key (or
 * when the provider cannot be reached) the check is skipped and says so.
 */
import { Effect, Either } from "effect"
import * as Client from "../mirage/MirageClient.ts"
import { loadMirageConfig } from "../mirage/mirageConfig.ts"
import type { Diagnostic } from "../pipeline/diagnostic.ts"
import type { LoadedPipeline } from "../pipeline/load.ts"
import { locate } from "../pipeline/yamlSource.ts"

export interface TemplateCheck {
  readonly diagnostics: ReadonlyArray<Diagnostic>
  /** Why the check did not run, when it did not. */
  readonly skipped?: string
}

export const checkCaptionTemplates = (
  pipeline: LoadedPipeline,
  options: { readonly baseUrl?: string } = {}
): Effect.Effect<TemplateCheck> =>
  Effect.gen(function* () {
    const uses = Object.entries(pipeline.spec.sets).flatMap(([name, set]) =>
      "captions" in set && set.captions ? [{ name, template: set.captions.template }] : []
    )
    if (uses.length === 0) return { diagnostics: [] }
    const config = yield* Effect.either(
      loadMirageConfig({ apiKeyEnv: pipeline.spec.provider?.apiKeyEnv, baseUrl: options.baseUrl ?? pipeline.spec.provider?.baseUrl })
    )
    if (Either.isLeft(config)) return { diagnostics: [], skipped: `caption templates not checked: ${config.left.message}` }
    const diagnostics: Array<Diagnostic> = []
    const problems: Array<string> = []
    yield* Effect.forEach(uses, ({ name, template }) =>
      Effect.gen(function* () {
        const client = yield* Client.MirageClient
        const found = yield* Effect.either(client.getCaptionTemplate(template))
        if (Either.isRight(found)) return
        if (found.left._tag === "NotFound") {
          diagnostics.push({
            file: pipeline.file,
            ...locate(pipeline.source, ["sets", name, "captions", "template"]),
            message: `caption template "${template}" does not exist at the provider (clapper sim and GET /v1/videos/captions/templates list them)`
          })
        } else problems.push(found.left.message)
      })
    ).pipe(Effect.provide(Client.layer(config.right)))
    return problems.length > 0 ? { diagnostics, skipped: `caption templates not all checked: ${problems[0]}` } : { diagnostics }
  })
