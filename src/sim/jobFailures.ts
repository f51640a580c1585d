import { Effect, Option } from "effect"
import { decideJobFailure } from "./faultDice.ts"
import type { SimContext } from "./simContext.ts"
import type { VideoJob } from "./videoJobs.ts"

/** The messages the API pairs with the failure codes it documents; other codes get a generic one. */
const failureMessages: Record<string, string> = {
  rate_limit_exceeded: "Rate limit exceeded. Please try again later.",
  generation_failed: "Video generation failed."
}

/** Whether a new video job will fail (seeded by `failRate`/`failCodes`), and how. */
export const planJobFailure = (context: SimContext): Effect.Effect<VideoJob["failure"]> =>
  Effect.map(
    decideJobFailure(context.dice, context.options.failRate, context.options.failCodes),
    Option.map(({ atFraction, code }) => ({
      code,
      message: failureMessages[code] ?? `Simulated failure (${code}).`,
      atFraction
    }))
  )
