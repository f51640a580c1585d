import { HttpRouter, HttpServerResponse } from "@effect/platform"
import { Effect } from "effect"
import { notFound } from "./apiErrors.ts"
import { gatedRouter } from "./apiGate.ts"
import { captionRoutes } from "./routes/captionRoutes.ts"
import { overlayRoutes } from "./routes/overlayRoutes.ts"
import { speechRoutes } from "./routes/speechRoutes.ts"
import { videoRoutes } from "./routes/videoRoutes.ts"
import type { SimContext } from "./simContext.ts"
import type { SimStats } from "./simStats.ts"

/**
 * The API origin: every documented route behind the gate (count, length, latency, key, quota, 5xx),
 * plus `GET /__sim/stats`, which is neither gated nor counted so reading it never disturbs a test.
 */
export const apiApp = (context: SimContext, stats: Effect.Effect<SimStats>) =>
  gatedRouter(context, [...videoRoutes(context), ...captionRoutes(context), ...speechRoutes, ...overlayRoutes(context)]).pipe(
    HttpRouter.get(
      "/__sim/stats",
      Effect.map(stats, (s) => HttpServerResponse.unsafeJson(s))
    ),
    Effect.catchTag("RouteNotFound", () => Effect.succeed(notFound("Not Found")))
  )
