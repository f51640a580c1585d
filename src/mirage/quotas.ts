/**
 * The provider's request quotas, per organisation (i.e. per API key) and per kind of request.
 *
 * Published (help.mirage.app/docs/api/rate-limiting): video generation 2 requests per minute,
 * captions 100 per minute; over the limit, HTTP 429 with `rateLimitExceededBody` and no
 * `Retry-After`. The other kinds have no published figure: `unpublishedDefault` is Clapper's
 * assumption for them, used alike by the runtime (which paces to it) and the simulator (which
 * enforces it), so the two can never disagree.
 */

/** Every kind of request the API rate-limits separately. */
export const requestKinds = ["generation", "captions", "speech", "overlays", "status", "list", "content", "templates"] as const

export type RequestKind = (typeof requestKinds)[number]

/** `count` requests per `perMs` milliseconds. */
export interface Rate {
  readonly count: number
  readonly perMs: number
}

export type Quotas = Readonly<Record<RequestKind, Rate>>

export const perMinute = (count: number): Rate => ({ count, perMs: 60_000 })

/** The assumed quota of a kind with no published limit: 5 a second. */
export const unpublishedDefault: Rate = perMinute(300)

/** The provider's published quotas (and `unpublishedDefault` for the rest). */
export const publishedQuotas: Quotas = {
  generation: perMinute(2),
  captions: perMinute(100),
  speech: unpublishedDefault,
  overlays: unpublishedDefault,
  status: unpublishedDefault,
  list: unpublishedDefault,
  content: unpublishedDefault,
  templates: unpublishedDefault
}

/** Every kind at the same rate (tests and the built-in simulator's throwaway key). */
export const uniformQuotas = (rate: Rate): Quotas =>
  Object.fromEntries(requestKinds.map((kind) => [kind, rate])) as Record<RequestKind, Rate>

/** The kind of each client operation (the names `MirageClient` gives its errors and spans). */
export const operationKind: Readonly<Record<string, RequestKind>> = {
  createVideo: "generation",
  addCaptions: "captions",
  textToSpeech: "speech",
  createTextOverlay: "overlays",
  getVideo: "status",
  getTextOverlay: "status",
  listVideos: "list",
  downloadContent: "content",
  downloadUrl: "content",
  listCaptionTemplates: "templates",
  getCaptionTemplate: "templates"
}

/** The body the provider documents for a 429. */
export const rateLimitExceededBody = {
  error: { type: "rate_limit_exceeded", message: "Rate limit exceeded." }
} as const

/** Milliseconds between two requests at `rate`, evenly spaced. */
export const spacingMs = (rate: Rate): number => rate.perMs / rate.count

const units: ReadonlyArray<readonly [RegExp, number]> = [
  [/^ms$/, 1],
  [/^(s|sec|secs|second|seconds)$/, 1000],
  [/^(m|min|mins|minute|minutes)$/, 60_000],
  [/^(h|hr|hour|hours)$/, 3_600_000],
  [/^(d|day|days)$/, 86_400_000]
]

/**
 * `"2/min"`, `"100/minute"`, `"5/s"`, `"300/h"`, `"1/30s"`: a count, a slash, an optional
 * multiplier and a unit. `undefined` when it does not parse.
 */
export const parseRate = (text: string): Rate | undefined => {
  const match = /^\s*(\d+(?:\.\d+)?)\s*\/\s*(\d+(?:\.\d+)?)?\s*([a-z]+)\s*$/i.exec(text)
  if (!match) return undefined
  const count = Number(match[1])
  const times = match[2] === undefined ? 1 : Number(match[2])
  const unit = units.find(([re]) => re.test(match[3]!.toLowerCase()))
  if (!unit || !(count > 0) || !(times > 0)) return undefined
  return { count, perMs: times * unit[1] }
}

/** A rate in words: `2 per minute`, `5 per second`, `1 per 30 s`. */
export const formatRate = (rate: Rate): string => {
  const per = (n: number, unit: string) => (rate.perMs === n ? `${rate.count} per ${unit}` : undefined)
  return (
    per(1000, "second") ??
    per(60_000, "minute") ??
    per(3_600_000, "hour") ??
    per(86_400_000, "day") ??
    `${rate.count} per ${rate.perMs % 1000 === 0 ? `${rate.perMs / 1000} s` : `${rate.perMs} ms`}`
  )
}

/** The rate as the pipeline file writes it: `2/min`, `5/s`, `1/30s`. */
export const rateText = (rate: Rate): string => {
  const unit = [
    [86_400_000, "d"],
    [3_600_000, "h"],
    [60_000, "min"],
    [1000, "s"]
  ].find(([ms]) => rate.perMs % (ms as number) === 0) as [number, string] | undefined
  if (!unit) return `${rate.count}/${rate.perMs}ms`
  const times = rate.perMs / unit[0]
  return `${rate.count}/${times === 1 ? "" : times}${unit[1]}`
}
