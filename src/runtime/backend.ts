/**
 * Where a run's requests go: the real API (key from the environment variable the pipeline names)
 * or the built-in simulator on loopback with a throwaway key. Either way the runtime sees one
 * `MirageClient`.
 */
import { Effect, Layer, Random, Redacted, type Scope } from "effect"
import * as Client from "../mirage/MirageClient.ts"
import { loadMirageConfig, makeMirageConfig } from "../mirage/MirageConfig.ts"
import type { MissingApiKey } from "../mirage/MirageError.ts"
import type { Pipeline } from "../pipeline/schema.ts"
import * as Simulator from "../sim/Simulator.ts"

export type Backend =
  | {
      readonly _tag: "Api"
      /** Overrides the pipeline's `provider.baseUrl` and `MIRAGE_BASE_URL`. */
      readonly baseUrl?: string | undefined
      /** The key itself (library use); otherwise it is read from the pipeline's `provider.apiKeyEnv`. */
      readonly apiKey?: string | Redacted.Redacted<string> | undefined
    }
  | { readonly _tag: "Simulator"; readonly options?: Partial<Simulator.SimulatorOptions> | undefined }

/** The client for this backend; a simulator lives as long as the scope. */
export const clientLayer = (
  backend: Backend,
  pipeline: Pipeline
): Effect.Effect<Layer.Layer<Client.MirageClient>, MissingApiKey | Simulator.SimulatorStartError, Scope.Scope> =>
  Effect.gen(function* () {
    if (backend._tag === "Simulator") {
      const sim = yield* Simulator.make(backend.options)
      const key = `sim-${(yield* Random.nextInt).toString(36)}`
      return Client.layer(makeMirageConfig({ apiKey: key, baseUrl: sim.baseUrl }))
    }
    const baseUrl = backend.baseUrl ?? pipeline.provider?.baseUrl
    if (backend.apiKey !== undefined) return Client.layer(makeMirageConfig({ apiKey: backend.apiKey, baseUrl }))
    const config = yield* loadMirageConfig({ apiKeyEnv: pipeline.provider?.apiKeyEnv, baseUrl })
    return Client.layer(config)
  })
