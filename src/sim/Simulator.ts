import { FileSystem } from "@effect/platform"
import { NodeCommandExecutor, NodeFileSystem, NodeHttpServer } from "@effect/platform-node"
import { Clock, Context, Effect, Either, Layer, Schema, type Scope } from "effect"
import { createServer } from "node:http"
import { notFound } from "./apiErrors.ts"
import { apiApp } from "./apiRouter.ts"
import { captionTemplates, previewFileName } from "./captionTemplates.ts"
import { makeFaultDice } from "./faultDice.ts"
import { fileHostRouter } from "./fileHost.ts"
import { makeFileStore } from "./fileStore.ts"
import { makeOverlayJobStore } from "./overlayJobs.ts"
import { makeRequestQuotas } from "./requestQuotas.ts"
import type { SimContext } from "./simContext.ts"
import { makeSimCounters, type SimStats } from "./simStats.ts"
import { defaultSimulatorOptions, optionProblems, resolveOptions, type SimulatorOptions } from "./simulatorOptions.ts"
import { makeThrottle } from "./throttle.ts"
import { makeVideoJobStore, videoStatuses, viewAt } from "./videoJobs.ts"
import { makeVideoRenderer } from "./videoRenderer.ts"

/**
 * The local Mirage-compatible API (DESIGN.md, "The simulator"): an API origin and a file host
 * origin on loopback, sharing one state, both closed (and their files deleted) when the scope that
 * made them closes.
 *
 * Behaviour worth knowing when testing against it:
 * - Jobs follow the Effect `Clock` of the fiber that made the simulator. Under `it.effect`
 *   (TestClock) progress moves with `TestClock.adjust` and `latencyMs` waits on it; use `it.live`,
 *   `it.scopedLive` or `Effect.runPromise` for wall-clock behaviour.
 * - It is at least as strict as the provider. Each API key (an organisation) has a quota per kind
 *   of request (`quotas`, default the published ones: 2 generations and 100 captionings a minute,
 *   300 a minute of each other kind): a sliding window of admitted requests; beyond it, 429 with
 *   exactly `{"error":{"type":"rate_limit_exceeded","message":"Rate limit exceeded."}}` and no
 *   `Retry-After` unless `retryAfter`. Tests that are not about quotas must pass roomy ones.
 *   `stats.refused` counts these 429s by route.
 * - A POST whose body has no `Content-Length` (chunked) is answered 411 before anything else
 *   (`requireContentLength`, default on).
 * - The gate's order: counted, 411, latency, 401, `throttleRps`, quota 429, injected 5xx, route.
 *   A refused request uses no quota; an injected 5xx does.
 * - A video job (generation or captioning) is QUEUED at 0% for `queuedMs` (default 2 s; the create
 *   answer too), then PROCESSING over its render time; pass `queuedMs: 0` for the old timeline.
 * - A job is COMPLETE only once its queue and render time have passed AND its file exists. Renders
 *   start in the background at submission (shared by identical image+audio pairs); at render
 *   factor 0 there is no queue and the submission waits for the file, so the first poll already
 *   reads COMPLETE.
 * - Each API key sees only the videos and overlays it created.
 * - Content that is not COMPLETE answers 409 `{detail}`; unknown ids answer 404 `{detail}`.
 */
export { defaultSimulatorOptions, type SimStats, type SimulatorOptions }

export interface SimulatorHandle {
  /** "http://127.0.0.1:<port>", no trailing slash. */
  readonly baseUrl: string
  /** The file host, where content redirects lead. */
  readonly fileBaseUrl: string
  readonly stats: Effect.Effect<SimStats>
  readonly options: SimulatorOptions
}

export class Simulator extends Context.Tag("clapper/Simulator")<Simulator, SimulatorHandle>() {}

/** The simulator could not start: bad options, a port in use, or an unreadable content file. */
export class SimulatorStartError extends Schema.TaggedError<SimulatorStartError>()("SimulatorStartError", {
  /** What failed: the options, the API origin, the file host origin, or `contentFile`. */
  origin: Schema.Literal("options", "api", "files", "contentFile"),
  reason: Schema.String
}) {
  override get message() {
    return `the simulator could not start (${this.origin}): ${this.reason}`
  }
}

const host = "127.0.0.1"

/** Listens on loopback; open connections are cut at shutdown so closing never waits on keep-alive. */
const listen = (port: number, origin: "api" | "files") =>
  Effect.gen(function* () {
    const nodeServer = createServer()
    const server = yield* NodeHttpServer.make(() => nodeServer, { port, host }).pipe(
      Effect.mapError(
        (error) =>
          new SimulatorStartError({
            origin,
            reason: `cannot listen on ${host}:${port}: ${error.cause instanceof Error ? error.cause.message : String(error.cause)}`
          })
      )
    )
    // Registered after the server's own finalizer, so it runs first and `close` need not wait.
    yield* Effect.addFinalizer(() => Effect.sync(() => nodeServer.closeAllConnections()))
    const address = server.address
    const boundPort = address._tag === "TcpAddress" ? address.port : port
    return { server, url: `http://${host}:${boundPort}` }
  })

const checkContentFile = (path: string | undefined) =>
  Effect.gen(function* () {
    if (path === undefined) return
    const fs = yield* FileSystem.FileSystem
    const info = yield* Effect.either(fs.stat(path))
    if (Either.isLeft(info)) return yield* new SimulatorStartError({ origin: "contentFile", reason: `cannot read ${path}` })
    if (info.right.type !== "File") return yield* new SimulatorStartError({ origin: "contentFile", reason: `${path} is not a file` })
  })

/** Only stateless platform services: the simulator must not touch the terminal of its host. */
const platform = NodeCommandExecutor.layer.pipe(Layer.provideMerge(NodeFileSystem.layer))

export const make = (options?: Partial<SimulatorOptions>): Effect.Effect<SimulatorHandle, SimulatorStartError, Scope.Scope> =>
  Effect.gen(function* () {
    const resolved = resolveOptions(options)
    const problems = optionProblems(resolved)
    if (problems.length > 0) return yield* new SimulatorStartError({ origin: "options", reason: problems.join("; ") })
    yield* checkContentFile(resolved.contentFile)

    const store = yield* makeFileStore
    const renderer = yield* makeVideoRenderer({
      root: store.root,
      useFfmpeg: resolved.ffmpeg && resolved.contentFile === undefined
    })
    const counters = yield* makeSimCounters
    const videos = yield* makeVideoJobStore
    const files = yield* listen(resolved.filePort, "files")
    const context: SimContext = {
      options: resolved,
      fileBaseUrl: files.url,
      counters,
      dice: yield* makeFaultDice(resolved.seed),
      throttle: yield* makeThrottle(resolved.throttleRps),
      quotas: yield* makeRequestQuotas(resolved.quotas),
      store,
      renderer,
      videos,
      overlays: yield* makeOverlayJobStore
    }
    yield* Effect.forEach(captionTemplates, (template) => store.publish(previewFileName(template), renderer.placeholderPath), {
      discard: true
    })

    const stats: Effect.Effect<SimStats> = Effect.gen(function* () {
      const nowMs = yield* Clock.currentTimeMillis
      const views = yield* Effect.forEach(yield* videos.all, (job) => viewAt(job, nowMs))
      const jobs: Record<string, number> = Object.fromEntries(videoStatuses.map((status) => [status, 0]))
      for (const view of views) jobs[view.status] = (jobs[view.status] ?? 0) + 1
      return {
        requests: yield* counters.requests,
        submissions: yield* counters.submissions,
        jobs,
        refused: yield* counters.refused
      }
    })

    yield* files.server.serve(
      fileHostRouter(context).pipe(Effect.catchTag("RouteNotFound", () => Effect.succeed(notFound("No such file"))))
    )
    const api = yield* listen(resolved.port, "api")
    yield* api.server.serve(apiApp(context, stats))
    const handle: SimulatorHandle = { baseUrl: api.url, fileBaseUrl: files.url, stats, options: resolved }
    return handle
  }).pipe(Effect.provide(platform))

/** The simulator as a service, running for the lifetime of the layer. */
export const layer = (options?: Partial<SimulatorOptions>): Layer.Layer<Simulator, SimulatorStartError> =>
  Layer.scoped(Simulator, make(options))
