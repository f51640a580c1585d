/**
 * `--quota KIND=RATE`, for `clapper run` (the quotas the run paces to) and `clapper sim` (the
 * quotas the simulator enforces): one parser, one set of words for the kinds and the rates.
 */
import { HelpDoc, Options, ValidationError } from "@effect/cli"
import { Effect, Either } from "effect"
import { formatRate, parseRate, type Quotas, type Rate, type RequestKind, requestKinds } from "../mirage/quotas.ts"

const rateForms = "a count per unit such as 2/min, 100/minute, 5/s, 300/h or 1/30s (units: ms, s, min, h, d)"

export type QuotaFlag = readonly [RequestKind | "all", Rate]

/** One `--quota KIND=RATE`; `all` stands for every kind. */
export const parseQuota = (text: string): Either.Either<QuotaFlag, string> => {
  const at = text.indexOf("=")
  const kind = (at < 0 ? text : text.slice(0, at)).trim()
  if (at < 0) return Either.left(`--quota ${text}: expected KIND=RATE, e.g. generation=60/min`)
  if (kind !== "all" && !(requestKinds as ReadonlyArray<string>).includes(kind)) {
    return Either.left(`--quota ${text}: unknown kind "${kind}"; the kinds are ${requestKinds.join(", ")} (or all)`)
  }
  const rate = parseRate(text.slice(at + 1))
  if (rate === undefined) return Either.left(`--quota ${text}: "${text.slice(at + 1)}" is not a rate; write ${rateForms}`)
  return Either.right([kind as RequestKind | "all", rate])
}

/** The kinds the flags name, with their rates: `all` first, then each named kind over it. */
export const quotaOverrides = (flags: ReadonlyArray<QuotaFlag>): Partial<Record<RequestKind, Rate>> => {
  const quotas: Partial<Record<RequestKind, Rate>> = {}
  for (const [kind, rate] of flags) if (kind === "all") for (const k of requestKinds) quotas[k] = rate
  for (const [kind, rate] of flags) if (kind !== "all") quotas[kind] = rate
  return quotas
}

/** `base` overridden by the flags. */
export const quotasOver = (base: Quotas, flags: ReadonlyArray<QuotaFlag>): Quotas => ({ ...base, ...quotaOverrides(flags) })

const sameRate = (a: Rate, b: Rate) => a.count === b.count && a.perMs === b.perMs

/** "generation 2 per minute, captions 100 per minute, others 300 per minute": the most shared rate is "others". */
export const describeQuotas = (quotas: Quotas): string => {
  const kindsAt = (rate: Rate) => requestKinds.filter((kind) => sameRate(quotas[kind], rate))
  const shared = requestKinds
    .map((kind) => quotas[kind])
    .reduce((best, rate) => (kindsAt(rate).length > kindsAt(best).length ? rate : best))
  const sharedBy = kindsAt(shared).length
  const each = (kinds: ReadonlyArray<RequestKind>) => kinds.map((kind) => `${kind} ${formatRate(quotas[kind])}`)
  if (sharedBy === requestKinds.length) return `every kind ${formatRate(shared)}`
  if (sharedBy < 2) return each(requestKinds).join(", ")
  return [...each(requestKinds.filter((kind) => !sameRate(quotas[kind], shared))), `others ${formatRate(shared)}`].join(", ")
}

/** The repeatable flag, parsed; `what` and `byDefault` finish its description. */
export const quotaOption = (what: string, byDefault: string) =>
  Options.text("quota").pipe(
    Options.withPseudoName("KIND=RATE"),
    Options.repeated,
    Options.mapEffect((texts) =>
      Effect.mapError(
        Effect.forEach(texts, (text) => parseQuota(text)),
        (reason) => ValidationError.invalidValue(HelpDoc.p(reason))
      )
    ),
    Options.withDescription(
      `${what}, repeatable, e.g. generation=60/min (kinds: ${requestKinds.join(", ")}, or all; default: ${byDefault}).`
    )
  )
