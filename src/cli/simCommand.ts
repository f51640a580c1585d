import { Command, HelpDoc, Options, ValidationError } from "@effect/cli"
import { Console, Effect, Either, Option, Redacted } from "effect"
import { formatRate, parseRate, type Quotas, type Rate, type RequestKind, requestKinds } from "../mirage/quotas.ts"
import * as Simulator from "../sim/Simulator.ts"
import { CliExit, ExitCodes } from "./exitCode.ts"

const defaults = Simulator.defaultSimulatorOptions

const rateForms = "a count per unit such as 2/min, 100/minute, 5/s, 300/h or 1/30s (units: ms, s, min, h, d)"

/** One `--quota KIND=RATE`; `all` stands for every kind. */
const parseQuota = (text: string): Either.Either<readonly [RequestKind | "all", Rate], string> => {
  const at = text.indexOf("=")
  const kind = (at < 0 ? text : text.slice(0, at)).trim()
  if (at < 0) return Either.left(`--quota ${text}: expected KIND=RATE, e.g. generation=60/min`)
  if (kind !== "all" && !(requestKinds as ReadonlyArray<string>).includes(kind)) {
    return Either.left(`--quota ${text}: unknown kind "${kind}"; the kinds are ${requestKinds.join(", ")} (or all)`)
  }
  const rate = parseRate(text.slice(at + 1))
  if (rate === undefined) return Either.left(`--quota ${text}: "${text.slice(at + 1)}" is not a rate; write ${rateForms}`)
  return Either.right([kind as RequestKind | "all", rate])
}

/** The default quotas overridden by the flags: `all` first, then each named kind. */
const quotasOf = (entries: ReadonlyArray<readonly [RequestKind | "all", Rate]>): Quotas => {
  const quotas: Record<RequestKind, Rate> = { ...defaults.quotas }
  for (const [kind, rate] of entries) if (kind === "all") for (const k of requestKinds) quotas[k] = rate
  for (const [kind, rate] of entries) if (kind !== "all") quotas[kind] = rate
  return quotas
}

const sameRate = (a: Rate, b: Rate) => a.count === b.count && a.perMs === b.perMs

/** "generation 2 per minute, captions 100 per minute, others 300 per minute": the most shared rate is "others". */
const describeQuotas = (quotas: Quotas): string => {
  const kindsAt = (rate: Rate) => requestKinds.filter((kind) => sameRate(quotas[kind], rate))
  const shared = requestKinds
    .map((kind) => quotas[kind])
    .reduce((best, rate) => (kindsAt(rate).length > kindsAt(best).length ? rate : best))
  const sharedBy = kindsAt(shared).length
  const each = (kinds: ReadonlyArray<RequestKind>) => kinds.map((kind) => `${kind} ${formatRate(quotas[kind])}`)
  if (sharedBy === requestKinds.length) return `every kind ${formatRate(shared)}`
  if (sharedBy < 2) return each(requestKinds).join(", ")
  return [...each(requestKinds.filter((kind) => !sameRate(quotas[kind], shared))), `others ${formatRate(shared)}`].join(", ")
}

const port = Options.integer("port").pipe(
  Options.withDefault(8787),
  Options.withDescription("Port of the API on 127.0.0.1 (0 picks a free port).")
)
const filePort = Options.integer("file-port").pipe(
  Options.withDefault(0),
  Options.withDescription("Port of the file host that serves rendered videos (0 picks a free port).")
)
const renderFactor = Options.float("render-factor").pipe(
  Options.withDefault(defaults.renderFactor),
  Options.withDescription("Render time as a multiple of the audio's duration (0 = complete as soon as the file exists).")
)
const seed = Options.integer("seed").pipe(
  Options.withDefault(defaults.seed),
  Options.withDescription("Seed of every fault decision: the same seed and request order give the same faults.")
)
const failRate = Options.float("fail-rate").pipe(
  Options.withDefault(defaults.failRate),
  Options.withDescription("Share (0..1) of video jobs that end FAILED.")
)
const failCodes = Options.text("fail-code").pipe(
  Options.repeated,
  Options.withDescription(`error.code of failed jobs, repeatable (default: ${defaults.failCodes.join(", ")}).`)
)
const quota = Options.text("quota").pipe(
  Options.withPseudoName("KIND=RATE"),
  Options.repeated,
  Options.mapEffect((texts) =>
    Effect.mapError(
      Effect.forEach(texts, (text) => parseQuota(text)),
      (reason) => ValidationError.invalidValue(HelpDoc.p(reason))
    )
  ),
  Options.withDescription(
    `Per-key quota of one kind of request, repeatable, e.g. generation=60/min (kinds: ${requestKinds.join(", ")}, or all; ` +
      `default: the provider's published quotas).`
  )
)
const retryAfter = Options.boolean("retry-after").pipe(
  Options.withDescription("Send Retry-After with a quota's 429 (the provider documents none).")
)
const queuedMs = Options.integer("queued-ms").pipe(
  Options.withDefault(defaults.queuedMs),
  Options.withDescription("Milliseconds a video job stays QUEUED before its render time starts (none at render factor 0).")
)
const noRequireContentLength = Options.boolean("no-require-content-length").pipe(
  Options.withDescription("Accept request bodies sent without Content-Length (chunked) instead of answering 411.")
)
const throttle = Options.float("throttle").pipe(
  Options.withDefault(defaults.throttleRps),
  Options.withDescription("Requests per second, across keys, beyond which the API answers 429 with Retry-After (0 = off).")
)
const errorRate = Options.float("error-rate").pipe(
  Options.withDefault(defaults.errorRate),
  Options.withDescription("Share (0..1) of API requests answered 500/502/503 before their route does anything.")
)
const resetRate = Options.float("reset-rate").pipe(
  Options.withDefault(defaults.resetRate),
  Options.withDescription("Share (0..1) of video submissions whose connection drops after the job was created.")
)
const latency = Options.integer("latency").pipe(
  Options.withDefault(defaults.latencyMs),
  Options.withDescription("Milliseconds added to every API response.")
)
const truncateRate = Options.float("truncate-rate").pipe(
  Options.withDefault(defaults.truncateRate),
  Options.withDescription("Share (0..1) of file downloads cut short after promising the full length.")
)
const apiKey = Options.redacted("api-key").pipe(
  Options.optional,
  Options.withDescription("Accept only this x-api-key (default: any non-empty key).")
)
const noFfmpeg = Options.boolean("no-ffmpeg").pipe(
  Options.withDescription("Always serve the small placeholder MP4 instead of rendering with ffmpeg.")
)

/** `clapper sim`: serves the simulator until Ctrl-C. */
export const simCommand = Command.make(
  "sim",
  {
    port,
    filePort,
    renderFactor,
    seed,
    failRate,
    failCodes,
    quota,
    retryAfter,
    queuedMs,
    noRequireContentLength,
    throttle,
    errorRate,
    resetRate,
    latency,
    truncateRate,
    apiKey,
    noFfmpeg
  },
  (config) =>
    Effect.scoped(
      Effect.gen(function*() {
        const sim = yield* Simulator.make({
          port: config.port,
          filePort: config.filePort,
          renderFactor: config.renderFactor,
          seed: config.seed,
          failRate: config.failRate,
          failCodes: config.failCodes.length > 0 ? config.failCodes : defaults.failCodes,
          quotas: quotasOf(config.quota),
          retryAfter: config.retryAfter,
          queuedMs: config.queuedMs,
          requireContentLength: !config.noRequireContentLength,
          throttleRps: config.throttle,
          errorRate: config.errorRate,
          resetRate: config.resetRate,
          latencyMs: config.latency,
          truncateRate: config.truncateRate,
          apiKey: Option.getOrUndefined(Option.map(config.apiKey, Redacted.value)),
          ffmpeg: !config.noFfmpeg
        }).pipe(
          Effect.mapError((error) => new CliExit({ code: ExitCodes.invalidInput, lines: [`clapper sim: ${error.message}`] }))
        )
        yield* Console.log(`Mirage simulator listening on ${sim.baseUrl} (files on ${sim.fileBaseUrl})`)
        yield* Console.log(`quotas per key: ${describeQuotas(sim.options.quotas)}`)
        return yield* Effect.never
      })
    )
).pipe(Command.withDescription("Serve a local Mirage-compatible API (the simulator) until Ctrl-C."))
