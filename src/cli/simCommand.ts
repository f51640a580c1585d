import { Command, HelpDoc, Options, ValidationError } from "@effect/cli"
import { Console, Effect, Either, Option, Redacted } from "effect"
import { formatRate, type Quotas, type Rate, type RequestKind, requestKinds } from "../mirage/quotas.ts"
import * as Simulator from "../sim/Simulator.ts"
import { CliExit, ExitCodes } from "./exitCode.ts"
import { describeQuotas, quotaOption, quotasOver } from "./quotaOption.ts"

const defaults = Simulator.defaultSimulatorOptions

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
const quota = quotaOption("Per-key quota of one kind of request the simulator enforces", "the provider's published quotas")
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
      Effect.gen(function* () {
        const sim = yield* Simulator.make({
          port: config.port,
          filePort: config.filePort,
          renderFactor: config.renderFactor,
          seed: config.seed,
          failRate: config.failRate,
          failCodes: config.failCodes.length > 0 ? config.failCodes : defaults.failCodes,
          quotas: quotasOver(defaults.quotas, config.quota),
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
        }).pipe(Effect.mapError((error) => new CliExit({ code: ExitCodes.invalidInput, lines: [`clapper sim: ${error.message}`] })))
        yield* Console.log(`Mirage simulator listening on ${sim.baseUrl} (files on ${sim.fileBaseUrl})`)
        yield* Console.log(`quotas per key: ${describeQuotas(sim.options.quotas)}`)
        return yield* Effect.never
      })
    )
).pipe(Command.withDescription("Serve a local Mirage-compatible API (the simulator) until Ctrl-C."))
