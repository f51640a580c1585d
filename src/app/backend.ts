/**
 * Where a run's requests go: the real API (key from the environment variable the pipeline names)
 * or the built-in simulator on loopback with a throwaway key. Either way the runtime sees one
 * `MirageClient`, plus what it needs to pace itself: which quota ledger the key shares on this
 * machine, and how messages name the key.
 */
import { Effect, Layer, Random, Redacted, type Scope } from "effect"
import * as Client from "../mirage/MirageClient.ts"
import { defaultApiKeyEnv, loadMirageConfig, makeMirageConfig, type MirageConfig } from "../mirage/mirageConfig.ts"
import type { MissingApiKey } from "../mirage/MirageError.ts"
import { perMinute, publishedQuotas, type Quotas } from "../mirage/quotas.ts"
import type { Pipeline } from "../pipeline/schema.ts"
import * as Simulator from "../sim/Simulator.ts"
import { defaultLedgerRoot, ledgerName, makeFileQuotaLedger, type QuotaLedger } from "../state/quotaLedger.ts"

export type Backend =
  | {
      readonly _tag: "Api"
      /** Overrides the pipeline's `provider.baseUrl` and `MIRAGE_BASE_URL`. */
      readonly baseUrl?: string | undefined
      /** The key itself (library use); otherwise it is read from the pipeline's `provider.apiKeyEnv`. */
      readonly apiKey?: string | Redacted.Redacted<string> | undefined
      /** Share the key's quota with other Clapper processes on this machine (default true). */
      readonly shareQuota?: boolean | undefined
    }
  | { readonly _tag: "Simulator"; readonly options?: Partial<Simulator.SimulatorOptions> | undefined }

export interface ConnectedBackend {
  readonly layer: Layer.Layer<Client.MirageClient>
  /** The key's quota slots, shared on this machine (the simulator's throwaway key shares none). */
  readonly quotaLedger: QuotaLedger | undefined
  /** The name of the key's ledger (a digest of key and base URL), for a state store that shares quotas beyond this machine; none when not shared. */
  readonly quotaKey: string | undefined
  /** How a message names the key: its environment variable, or what gave it. */
  readonly keyName: string
  /** Quotas the backend itself imposes (the built-in simulator's), over the pipeline's. */
  readonly quotas: Quotas | undefined
}

/**
 * The built-in simulator behaves like the provider, but a demo at 2 generations a minute would
 * take minutes for the quickstart: its throwaway key gets a raised generation quota, and the run
 * is told the same figures, so it still paces to what the server enforces.
 */
export const simulatorRunQuotas: Quotas = { ...publishedQuotas, generation: perMinute(120), captions: perMinute(600) }

const quotaKeyOf = (config: MirageConfig) => ledgerName(Redacted.value(config.apiKey), config.baseUrl)

/** The client for this backend; a simulator lives as long as the scope. */
export const connectBackend = (
  backend: Backend,
  pipeline: Pipeline
): Effect.Effect<ConnectedBackend, MissingApiKey | Simulator.SimulatorStartError, Scope.Scope> =>
  Effect.gen(function* () {
    if (backend._tag === "Simulator") {
      const quotas = { ...simulatorRunQuotas, ...backend.options?.quotas }
      const sim = yield* Simulator.make({ ...backend.options, quotas })
      const key = `sim-${(yield* Random.nextInt).toString(36)}`
      return {
        layer: Client.layer(makeMirageConfig({ apiKey: key, baseUrl: sim.baseUrl })),
        quotaLedger: undefined,
        quotaKey: undefined,
        keyName: "the simulator's key",
        quotas
      }
    }
    const baseUrl = backend.baseUrl ?? pipeline.provider?.baseUrl
    const config =
      backend.apiKey !== undefined
        ? makeMirageConfig({ apiKey: backend.apiKey, baseUrl })
        : yield* loadMirageConfig({ apiKeyEnv: pipeline.provider?.apiKeyEnv, baseUrl })
    return {
      layer: Client.layer(config),
      quotaLedger: backend.shareQuota === false ? undefined : makeFileQuotaLedger(defaultLedgerRoot(), quotaKeyOf(config)),
      quotaKey: backend.shareQuota === false ? undefined : quotaKeyOf(config),
      keyName: backend.apiKey !== undefined ? "the API key given to the run" : (pipeline.provider?.apiKeyEnv ?? defaultApiKeyEnv),
      quotas: undefined
    }
  })
