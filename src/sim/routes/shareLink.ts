import { HttpServerRequest } from "@effect/platform"
import { Effect } from "effect"

/**
 * Where the simulator's share links point: the origin the client reached the API at (its `Host`),
 * so a link is a URL of the simulator itself, whichever port or proxy the client used.
 */
export const shareLinkBase: Effect.Effect<string, never, HttpServerRequest.HttpServerRequest> = Effect.map(
  HttpServerRequest.HttpServerRequest,
  (request) => `http://${request.headers.host ?? "127.0.0.1"}`
)
