/**
 * `Retry-After` (RFC 9110 §10.2.3): either delta seconds (`120`) or an HTTP date
 * (`Wed, 21 Oct 2015 07:28:00 GMT`), the latter relative to the Clock.
 */
import { Clock, Duration, Effect } from "effect"

const deltaSeconds = /^\s*(\d+)\s*$/

/** The HTTP-date forms: IMF-fixdate, obsolete RFC 850 and asctime. All carry a weekday. */
const httpDate = /^\s*(Mon|Tue|Wed|Thu|Fri|Sat|Sun)[a-z]*,?\s/i

/**
 * How long to wait, given the header's value and the current time in epoch milliseconds.
 * `undefined` when the header is absent or does not parse; a date in the past means no wait.
 */
export const parseRetryAfter = (value: string | undefined, nowMillis: number): Duration.Duration | undefined => {
  if (value === undefined) return undefined
  const seconds = deltaSeconds.exec(value)
  if (seconds !== null) return Duration.seconds(Number(seconds[1]))
  if (!httpDate.test(value)) return undefined
  const at = Date.parse(value)
  if (Number.isNaN(at)) return undefined
  return Duration.millis(Math.max(0, at - nowMillis))
}

/** `parseRetryAfter` against the Effect `Clock` (so `TestClock` drives it in tests). */
export const retryAfterFromHeader = (value: string | undefined): Effect.Effect<Duration.Duration | undefined> =>
  Effect.map(Clock.currentTimeMillis, (now) => parseRetryAfter(value, now))
