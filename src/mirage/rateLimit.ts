/**
 * Reading a 429 into a `RateLimited`: how long to wait, and what the provider said.
 *
 * - The body: the documented `{"error": {"type": "rate_limit_exceeded", "message": "…"}}` gives
 *   `type` and `providerMessage`; any other body (empty, HTML from a gateway, malformed) gives
 *   neither, and is no error of its own.
 * - `X-RateLimit-Limit`, `-Remaining`, `-Reset`: not documented by this provider, common in front
 *   of others. Reset is either a unix time or delta seconds: a value below 10^9 (31 years as a
 *   delta, 2001 as a date) is delta seconds; 10^12 and above is a unix time in milliseconds.
 * - The wait: `Retry-After` first (the standard, and what the provider would send); when it is
 *   absent or does not parse, the time until Reset.
 *
 * "Now" is the Effect `Clock`, so `TestClock` drives it in tests. Text from the server goes through
 * `scrub` (a server may echo the key) and is cut short: it ends up in messages and logs.
 */
import * as Headers from "@effect/platform/Headers"
import { Clock, Duration, Effect, Either, Option, Schema } from "effect"
import { RateLimited } from "./MirageError.ts"
import { parseRetryAfter } from "./retryAfter.ts"
import { ProviderErrorBody } from "./schemas.ts"

/** What `X-RateLimit-*` headers said; each field only when its header came and parsed. */
export interface RateLimitHeaders {
  readonly limit?: number
  readonly remaining?: number
  /** When the window resets, epoch milliseconds. */
  readonly resetAt?: number
}

/** A Reset value below this is delta seconds, not a unix time. */
export const deltaSecondsBelow = 1e9
/** A Reset value from this on is a unix time in milliseconds. */
export const epochMillisFrom = 1e12

/** Longest provider text kept on an error. */
const maxTextLength = 300

/** A number, optionally followed by `,` or `;` and more (`100, 100;w=60` keeps `100`). */
const leadingNumber = /^\s*(\d+(?:\.\d+)?)\s*(?:[,;].*)?$/

const numberIn = (value: string | undefined): number | undefined => {
  const m = value === undefined ? null : leadingNumber.exec(value)
  return m === null ? undefined : Number(m[1])
}

const countIn = (value: string | undefined): number | undefined => {
  const n = numberIn(value)
  return n !== undefined && Number.isInteger(n) ? n : undefined
}

/** `X-RateLimit-Reset` as epoch milliseconds (see the module's note on its two forms). */
export const parseReset = (value: string | undefined, nowMillis: number): number | undefined => {
  const n = numberIn(value)
  if (n === undefined) return undefined
  if (n >= epochMillisFrom) return Math.round(n)
  if (n >= deltaSecondsBelow) return Math.round(n * 1000)
  return Math.round(nowMillis + n * 1000)
}

/** The `X-RateLimit-*` headers of an answer, at `nowMillis`. */
export const parseRateLimitHeaders = (headers: Headers.Headers, nowMillis: number): RateLimitHeaders => {
  const get = (name: string) => Option.getOrUndefined(Headers.get(headers, name))
  const limit = countIn(get("x-ratelimit-limit"))
  const remaining = countIn(get("x-ratelimit-remaining"))
  const resetAt = parseReset(get("x-ratelimit-reset"), nowMillis)
  return {
    ...(limit === undefined ? {} : { limit }),
    ...(remaining === undefined ? {} : { remaining }),
    ...(resetAt === undefined ? {} : { resetAt })
  }
}

/** What the provider's error envelope says, scrubbed and cut short; `{}` for any other body. */
export const parseProviderError = (
  text: string,
  scrub: (text: string) => string
): { readonly type?: string; readonly providerMessage?: string } => {
  const decoded = Schema.decodeUnknownEither(Schema.parseJson(ProviderErrorBody))(text)
  if (Either.isLeft(decoded)) return {}
  const clean = (s: string | undefined) => {
    const t = s === undefined ? "" : scrub(s).trim().slice(0, maxTextLength)
    return t === "" ? undefined : t
  }
  const type = clean(decoded.right.error.type)
  const providerMessage = clean(decoded.right.error.message)
  return {
    ...(type === undefined ? {} : { type }),
    ...(providerMessage === undefined ? {} : { providerMessage })
  }
}

/** The `RateLimited` of a 429 answer with these `headers` and body `text`. */
export const rateLimitedError = (
  operation: string,
  headers: Headers.Headers,
  text: string,
  scrub: (text: string) => string
): Effect.Effect<RateLimited> =>
  Effect.map(Clock.currentTimeMillis, (now) => {
    const limits = parseRateLimitHeaders(headers, now)
    const retryAfter =
      parseRetryAfter(Option.getOrUndefined(Headers.get(headers, "retry-after")), now) ??
      (limits.resetAt === undefined ? undefined : Duration.millis(Math.max(0, limits.resetAt - now)))
    return new RateLimited({ operation, retryAfter, ...parseProviderError(text, scrub), ...limits })
  })
