/** Run settings for tests: the defaults with short retries and polls, and no rate or quota to speak of. */
import { Duration } from "effect"
import { defaultRunSettings, type RunSettings } from "../../src/runtime/runSettings.ts"
import { roomyQuotas } from "./testQuotas.ts"

export const fastSettings: RunSettings = {
  ...defaultRunSettings,
  requestsPerSecond: 500,
  quotas: roomyQuotas,
  // No patience beyond the attempts: a test of a failing step fails in milliseconds.
  retry: { attempts: 6, initialDelay: Duration.millis(20), maxDelay: Duration.millis(200), patience: Duration.zero },
  poll: { interval: Duration.millis(40), maxInterval: Duration.millis(200) },
  settleTime: Duration.millis(500)
}
