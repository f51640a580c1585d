import type { FileSystem } from "@effect/platform"
import { HttpRouter, HttpServerRequest, type HttpServerResponse } from "@effect/platform"
import { Duration, Effect, Option, Stream } from "effect"
import type { RequestKind } from "../mirage/quotas.ts"
import { lengthRequired, rateLimitExceeded, serverError, unauthorized } from "./apiErrors.ts"
import { decideServerError } from "./faultDice.ts"
import type { SimContext } from "./simContext.ts"
import { retryAfterSeconds } from "./slidingWindow.ts"

/**
 * What every API route goes through before its own work, in this order: it is counted; a body
 * without `Content-Length` is refused (411); it is delayed by the configured latency,
 * authenticated with `x-api-key` (401), held to the global `throttleRps` fault and then to its
 * key's quota for its kind (429), and possibly failed with a 5xx (just before the route, so a 5xx
 * never has an effect). Each refusal happens before the next check, so a refused request uses no
 * quota.
 */
export interface Caller {
  /** The key the request was made with; videos belong to the key that created them. */
  readonly apiKey: string
}

/** What route handlers may use: the request, its path and query, and the file system. */
export type RouteEnv =
  | HttpServerRequest.HttpServerRequest
  | HttpRouter.RouteContext
  | HttpServerRequest.ParsedSearchParams
  | FileSystem.FileSystem

export interface ApiRoute {
  readonly method: "GET" | "POST"
  /** The path as the API documents it, e.g. `/v1/videos/{video_id}`; also the stats key. */
  readonly template: `/${string}`
  /** Which of its key's quotas the route counts against. */
  readonly kind: RequestKind
  readonly handle: (caller: Caller) => Effect.Effect<HttpServerResponse.HttpServerResponse, never, RouteEnv>
}

export const routeKey = (method: string, template: string): string => `${method} ${template}`

/** `{video_id}` → `:video_id`, the router's syntax. */
const routerPath = (template: `/${string}`): `/${string}` => template.replace(/\{([^}]+)\}/g, ":$1") as `/${string}`

const authenticate = (context: SimContext, request: HttpServerRequest.HttpServerRequest): Option.Option<string> => {
  const header = request.headers["x-api-key"]
  const key = typeof header === "string" ? header.trim() : ""
  if (key === "") return Option.none()
  if (context.options.apiKey !== undefined && key !== context.options.apiKey) return Option.none()
  return Option.some(key)
}

/**
 * A refusal is sent only once the request body has been read, as a well-behaved server does: an
 * answer sent mid-upload makes the client's write fail (EPIPE), and the client could not tell a
 * refused submit from one whose outcome is unknown.
 */
const refuse = (request: HttpServerRequest.HttpServerRequest, response: HttpServerResponse.HttpServerResponse) =>
  Effect.as(Effect.ignore(Stream.runDrain(request.stream)), response)

/**
 * A body whose length is not declared up front (`Transfer-Encoding: chunked`). Many gateways in
 * front of real APIs refuse these with 411, so a client that streams uploads chunked must fail
 * here first, not in production.
 */
const isUnsizedBody = (request: HttpServerRequest.HttpServerRequest): boolean =>
  request.method === "POST" && request.headers["content-length"] === undefined && request.headers["transfer-encoding"] !== undefined

const gated = (context: SimContext, route: ApiRoute) =>
  Effect.gen(function* () {
    const request = yield* HttpServerRequest.HttpServerRequest
    const key = routeKey(route.method, route.template)
    yield* context.counters.countRequest(key)
    if (context.options.requireContentLength && isUnsizedBody(request)) return yield* refuse(request, lengthRequired())
    if (context.options.latencyMs > 0) yield* Effect.sleep(Duration.millis(context.options.latencyMs))
    const header = request.headers["x-api-key"]
    const apiKey = authenticate(context, request)
    if (Option.isNone(apiKey)) {
      return yield* refuse(
        request,
        unauthorized(
          typeof header === "string" && header.trim() !== "" ? "Invalid API key" : "Missing API key: send it in the x-api-key header"
        )
      )
    }
    // The fault throttle always says when to come back; the quotas only when `retryAfter` asks.
    const throttled = yield* context.throttle.admit
    if (Option.isSome(throttled)) return yield* refuse(request, rateLimitExceeded(throttled))
    const overQuota = yield* context.quotas.admit(apiKey.value, route.kind)
    if (Option.isSome(overQuota)) {
      yield* context.counters.countRefusal(key)
      const retryAfter = context.options.retryAfter ? Option.some(retryAfterSeconds(overQuota.value)) : Option.none()
      return yield* refuse(request, rateLimitExceeded(retryAfter))
    }
    const failure = yield* decideServerError(context.dice, context.options.errorRate)
    if (Option.isSome(failure)) return yield* refuse(request, serverError(failure.value))
    return yield* route.handle({ apiKey: apiKey.value })
  })

/** The API routes as a router, each behind the gate. */
export const gatedRouter = (context: SimContext, routes: ReadonlyArray<ApiRoute>) =>
  HttpRouter.fromIterable(routes.map((route) => HttpRouter.makeRoute(route.method, routerPath(route.template), gated(context, route))))
