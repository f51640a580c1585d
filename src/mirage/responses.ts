/**
 * Reading the API's answers: a 2xx body decoded with its Schema, any other status mapped to its
 * typed error (401/403, 404, 411/413/415, 422, 429, 5xx, or `UnexpectedResponse`).
 */
import type * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import { Effect, Either, ParseResult, Schema } from "effect"
import {
  type ApiError,
  NotFound,
  refusalStatuses,
  requestRefused,
  ServerError,
  type TransportError,
  Unauthorized,
  UnexpectedResponse,
  ValidationFailed
} from "./MirageError.ts"
import { parseProviderError, rateLimitedError } from "./rateLimit.ts"
import { HttpValidationError, type ValidationIssue } from "./schemas.ts"
import { fromHttpClientError } from "./transport.ts"

/** What an answer is read for: the operation, the request path and how to scrub the key from text. */
export interface Exchange {
  readonly operation: string
  readonly path: string
  readonly scrub: (text: string) => string
  /** File parts the request carried (uploads); absent means none. Words a refusal (413). */
  readonly files?: number
}

/** How much of a body an `UnexpectedResponse` keeps. */
export const bodyPrefixLength = 200

export const isSuccess = (status: number): boolean => status >= 200 && status < 300

export const bodyPrefix = (exchange: Exchange, text: string): string => exchange.scrub(text.slice(0, bodyPrefixLength))

/** The whole body as text; a connection lost while reading is a `TransportError`. */
export const readText = (exchange: Exchange, response: HttpClientResponse.HttpClientResponse): Effect.Effect<string, TransportError> =>
  Effect.mapError(response.text, (e) => fromHttpClientError(exchange.operation, e, exchange.scrub))

const parseJson = (text: string): Either.Either<unknown, string> => {
  if (text.trim() === "") return Either.left("empty body")
  return Either.try({
    try: (): unknown => JSON.parse(text),
    catch: () => "body is not JSON"
  })
}

const scrubIssue = (exchange: Exchange, issue: ValidationIssue): ValidationIssue => ({
  loc: issue.loc.map((l) => (typeof l === "string" ? exchange.scrub(l) : l)),
  msg: exchange.scrub(issue.msg),
  type: exchange.scrub(issue.type)
})

/** The issues of a 422 body; a body that is not the documented shape still gives a `ValidationFailed`. */
const validationIssues = (exchange: Exchange, text: string): ReadonlyArray<ValidationIssue> => {
  const decoded = Either.flatMap(parseJson(text), (json) =>
    Either.mapLeft(Schema.decodeUnknownEither(HttpValidationError)(json), () => "not a validation error")
  )
  if (Either.isLeft(decoded)) {
    const prefix = bodyPrefix(exchange, text)
    return prefix === "" ? [] : [{ loc: [], msg: prefix, type: "unparsed" }]
  }
  const detail = decoded.right.detail
  if (detail === undefined) return []
  if (typeof detail === "string") return [{ loc: [], msg: exchange.scrub(detail), type: "detail" }]
  return detail.map((issue) => scrubIssue(exchange, issue))
}

/** Short text a refusal's JSON body gives (`{"detail": "…"}`, `{"message": "…"}`, the provider's envelope). */
const DetailBody = Schema.parseJson(Schema.Union(Schema.Struct({ detail: Schema.String }), Schema.Struct({ message: Schema.String })))

const serverSaid = (exchange: Exchange, text: string): string | undefined => {
  const envelope = parseProviderError(text, exchange.scrub)
  if (envelope.providerMessage !== undefined || envelope.type !== undefined) return envelope.providerMessage ?? envelope.type
  const decoded = Schema.decodeUnknownEither(DetailBody)(text)
  if (Either.isLeft(decoded)) return undefined
  const said = exchange.scrub("detail" in decoded.right ? decoded.right.detail : decoded.right.message).trim()
  return said === "" ? undefined : said.slice(0, bodyPrefixLength)
}

/** The typed error for a non-2xx answer (its body is read, which also frees the connection). */
export const failForStatus = (exchange: Exchange, response: HttpClientResponse.HttpClientResponse): Effect.Effect<never, ApiError> =>
  Effect.flatMap(readText(exchange, response), (text): Effect.Effect<never, ApiError> => {
    const { operation, path } = exchange
    const status = response.status
    if (status === 401 || status === 403) return Effect.fail(new Unauthorized({ operation, status }))
    if (status === 404) return Effect.fail(new NotFound({ operation, path }))
    if (status === 422) return Effect.fail(new ValidationFailed({ operation, issues: validationIssues(exchange, text) }))
    if (status === 429) return Effect.flatMap(rateLimitedError(operation, response.headers, text, exchange.scrub), Effect.fail)
    if (refusalStatuses.has(status)) {
      return Effect.fail(requestRefused(operation, status, exchange.files ?? 0, serverSaid(exchange, text)))
    }
    if (status >= 500) return Effect.fail(new ServerError({ operation, status }))
    return Effect.fail(
      new UnexpectedResponse({
        operation,
        status,
        problem: `status ${status} is not one the API documents for this call`,
        bodyPrefix: bodyPrefix(exchange, text)
      })
    )
  })

/** A 2xx body decoded with `schema`; a body that does not decode is an `UnexpectedResponse`. */
export const decodeBody = <A, I>(
  exchange: Exchange,
  response: HttpClientResponse.HttpClientResponse,
  schema: Schema.Schema<A, I>
): Effect.Effect<A, ApiError> =>
  Effect.flatMap(readText(exchange, response), (text) => {
    const unexpected = (problem: string) =>
      new UnexpectedResponse({
        operation: exchange.operation,
        status: response.status,
        problem: exchange.scrub(problem).slice(0, 1000),
        bodyPrefix: bodyPrefix(exchange, text)
      })
    const json = parseJson(text)
    if (Either.isLeft(json)) return Effect.fail(unexpected(json.left))
    return Either.match(Schema.decodeUnknownEither(schema)(json.right), {
      onLeft: (error) => Effect.fail(unexpected(`body does not decode: ${ParseResult.TreeFormatter.formatErrorSync(error)}`)),
      onRight: Effect.succeed
    })
  })

/** `decodeBody` for a 2xx answer, `failForStatus` otherwise. */
export const handleJson = <A, I>(
  exchange: Exchange,
  response: HttpClientResponse.HttpClientResponse,
  schema: Schema.Schema<A, I>
): Effect.Effect<A, ApiError> => (isSuccess(response.status) ? decodeBody(exchange, response, schema) : failForStatus(exchange, response))
