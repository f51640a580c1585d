import { publishedQuotas, type Quotas, requestKinds } from "../mirage/quotas.ts"

/**
 * What a simulator run looks like: where it listens, how fast jobs render and which faults it
 * injects. Every field has a default so callers only name what they change.
 */
export interface SimulatorOptions {
  /** 0 = pick a free port; the host is always 127.0.0.1. */
  readonly port: number
  /** Port of the file host (the second origin); 0 = pick a free port. */
  readonly filePort: number
  /** Render time = factor × the audio's duration; 0 = COMPLETE as soon as the file exists. */
  readonly renderFactor: number
  /** Seeds every fault decision, so a run with the same seed and request order is reproducible. */
  readonly seed: number
  /** 0..1 share of video jobs that end FAILED. */
  readonly failRate: number
  /** `error.code` values chosen (seeded) for failed jobs. */
  readonly failCodes: ReadonlyArray<string>
  /**
   * Per API key and per kind of request: at most `count` admitted requests in any `perMs` window
   * (a non-integer count admits its whole part, at least 1). Over it: 429 with the documented body.
   */
  readonly quotas: Quotas
  /** Add `Retry-After` (whole seconds until a slot frees) to quota 429s; the provider documents none. */
  readonly retryAfter: boolean
  /** A video job (generation, captioning) is QUEUED this long before its render time starts; none at render factor 0. */
  readonly queuedMs: number
  /** Answer 411 to a POST whose body comes without `Content-Length` (chunked), as gateways do. */
  readonly requireContentLength: boolean
  /** 0 = off; beyond this many requests per second, across keys, the API answers 429 + Retry-After. */
  readonly throttleRps: number
  /** 0..1 share of API requests answered 500/502/503 before their route does anything (after the quota). */
  readonly errorRate: number
  /** 0..1 share of POST /v1/videos whose connection is destroyed after the job is created. */
  readonly resetRate: number
  /** Added to every API response. */
  readonly latencyMs: number
  /** 0..1 share of file downloads cut short (full Content-Length promised, socket closed midway). */
  readonly truncateRate: number
  /** When set, only this key is accepted; otherwise any non-empty `x-api-key`. */
  readonly apiKey: string | undefined
  /** When set, every video's content is this file (tests and benchmarks). */
  readonly contentFile: string | undefined
  /** Render real MP4s with ffmpeg when the binary is usable; false = always the placeholder. */
  readonly ffmpeg: boolean
}

export const defaultSimulatorOptions: SimulatorOptions = {
  port: 0,
  filePort: 0,
  renderFactor: 4,
  seed: 1,
  failRate: 0,
  failCodes: ["rate_limit_exceeded", "generation_failed"],
  quotas: publishedQuotas,
  retryAfter: false,
  queuedMs: 2000,
  requireContentLength: true,
  throttleRps: 0,
  errorRate: 0,
  resetRate: 0,
  latencyMs: 0,
  truncateRate: 0,
  apiKey: undefined,
  contentFile: undefined,
  ffmpeg: true
}

/** The defaults overlaid with what the caller chose. */
export const resolveOptions = (options: Partial<SimulatorOptions> | undefined): SimulatorOptions => ({
  ...defaultSimulatorOptions,
  ...options
})

/** Every reason the options cannot run, in words a user can act on (empty when they are fine). */
export const optionProblems = (options: SimulatorOptions): ReadonlyArray<string> => {
  const problems: Array<string> = []
  const port = (name: string, value: number) => {
    if (!Number.isInteger(value) || value < 0 || value > 65535) problems.push(`${name} must be an integer in 0..65535, got ${value}`)
  }
  const nonNegative = (name: string, value: number) => {
    if (!Number.isFinite(value) || value < 0) problems.push(`${name} must be a number ≥ 0, got ${value}`)
  }
  const share = (name: string, value: number) => {
    if (!Number.isFinite(value) || value < 0 || value > 1) problems.push(`${name} must be between 0 and 1, got ${value}`)
  }
  port("port", options.port)
  port("filePort", options.filePort)
  nonNegative("renderFactor", options.renderFactor)
  nonNegative("throttleRps", options.throttleRps)
  nonNegative("latencyMs", options.latencyMs)
  nonNegative("queuedMs", options.queuedMs)
  for (const kind of requestKinds) {
    const rate = options.quotas[kind] as Quotas[typeof kind] | undefined
    if (rate === undefined) {
      problems.push(`quotas.${kind} is missing`)
      continue
    }
    if (!Number.isFinite(rate.count) || rate.count <= 0) problems.push(`quotas.${kind}.count must be a number > 0, got ${rate.count}`)
    if (!Number.isFinite(rate.perMs) || rate.perMs <= 0) problems.push(`quotas.${kind}.perMs must be a number > 0, got ${rate.perMs}`)
  }
  if (!Number.isInteger(options.seed)) problems.push(`seed must be an integer, got ${options.seed}`)
  share("failRate", options.failRate)
  share("errorRate", options.errorRate)
  share("resetRate", options.resetRate)
  share("truncateRate", options.truncateRate)
  if (options.failRate > 0 && options.failCodes.length === 0) problems.push("failCodes must name at least one code when failRate > 0")
  if (options.failCodes.some((code) => code.trim() === "")) problems.push("failCodes must not contain empty codes")
  if (options.apiKey !== undefined && options.apiKey === "") problems.push("apiKey must not be empty when set")
  return problems
}
