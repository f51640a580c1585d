/** Run settings for tests: the defaults with short retries and polls, and no rate to speak of. */
import { Duration } from "effect"
import { defaultRunSettings, type RunSettings } from "../../src/runtime/runSettings.ts"

export const fastSettings: RunSettings = {
  ...defaultRunSettings,
  requestsPerSecond: 500,
  retry: { attempts: 6, initialDelay: Duration.millis(20), maxDelay: Duration.millis(200) },
  poll: { interval: Duration.millis(40), maxInterval: Duration.millis(200) },
  settleTime: Duration.millis(500)
}
