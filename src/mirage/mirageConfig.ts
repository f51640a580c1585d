/**
 * What the client needs to reach the API: where, with which key, how long to wait.
 *
 * The key is `Redacted` from the moment it is read: it prints as `<redacted>` and is unwrapped only
 * to set the `x-api-key` header of a request to the API's own origin.
 */
import { Config, Duration, Effect, Option, Redacted } from "effect"
import { MissingApiKey } from "./MirageError.ts"

export interface MirageConfig {
  /** The API's base URL, e.g. `https://api.mirage.app` (a path prefix is kept). */
  readonly baseUrl: string
  readonly apiKey: Redacted.Redacted<string>
  /**
   * Longest wait for an API call's complete answer. For downloads it bounds the wait for the first
   * byte and between chunks, never the whole transfer.
   */
  readonly requestTimeout: Duration.Duration
}

export const defaultBaseUrl = "https://api.mirage.app"
export const defaultApiKeyEnv = "MIRAGE_API_KEY"
export const baseUrlEnv = "MIRAGE_BASE_URL"
export const defaultRequestTimeout: Duration.Duration = Duration.seconds(60)

export interface MirageConfigOptions {
  /** The NAME of the environment variable holding the key (default `MIRAGE_API_KEY`). */
  readonly apiKeyEnv?: string | undefined
  /** The base URL; when absent, `MIRAGE_BASE_URL`, else `https://api.mirage.app`. */
  readonly baseUrl?: string | undefined
  readonly requestTimeout?: Duration.DurationInput | undefined
}

/** A `MirageConfig` from plain values (the key is wrapped in `Redacted` when it is a string). */
export const makeMirageConfig = (options: {
  readonly apiKey: string | Redacted.Redacted<string>
  readonly baseUrl?: string | undefined
  readonly requestTimeout?: Duration.DurationInput | undefined
}): MirageConfig => ({
  baseUrl: options.baseUrl ?? defaultBaseUrl,
  apiKey: typeof options.apiKey === "string" ? Redacted.make(options.apiKey) : options.apiKey,
  requestTimeout: options.requestTimeout === undefined ? defaultRequestTimeout : Duration.decode(options.requestTimeout)
})

/**
 * Reads the configuration through Effect `Config` (the environment by default): the key from the
 * variable named by `apiKeyEnv`, failing with `MissingApiKey` when it is unset or blank.
 */
export const loadMirageConfig = (options: MirageConfigOptions = {}): Effect.Effect<MirageConfig, MissingApiKey> => {
  const variable = options.apiKeyEnv ?? defaultApiKeyEnv
  const missing = new MissingApiKey({ operation: "loadMirageConfig", variable })
  return Effect.gen(function* () {
    const key = yield* Config.option(Config.redacted(variable)).pipe(Effect.orElseSucceed(() => Option.none()))
    if (Option.isNone(key) || Redacted.value(key.value).trim() === "") return yield* Effect.fail(missing)
    const baseUrl =
      options.baseUrl ??
      (yield* Config.string(baseUrlEnv).pipe(
        Config.withDefault(defaultBaseUrl),
        Effect.orElseSucceed(() => defaultBaseUrl)
      ))
    return makeMirageConfig({ apiKey: key.value, baseUrl, requestTimeout: options.requestTimeout })
  })
}
