import { HttpServerResponse } from "@effect/platform"
import { Option } from "effect"
import { rateLimitExceededBody } from "../mirage/quotas.ts"

/**
 * The error answers of the API, shaped like the real service (a FastAPI app): 422 lists every
 * violation of a request as `{loc, msg, type}`; other errors carry a plain `detail` string.
 */
export interface ValidationIssue {
  readonly loc: ReadonlyArray<string | number>
  readonly msg: string
  readonly type: string
}

export const issue = (loc: ReadonlyArray<string | number>, msg: string, type = "value_error"): ValidationIssue => ({
  loc,
  msg,
  type
})

export const missingField = (loc: ReadonlyArray<string | number>): ValidationIssue => issue(loc, "Field required", "missing")

export const extraField = (loc: ReadonlyArray<string | number>): ValidationIssue =>
  issue(loc, "Extra inputs are not permitted", "extra_forbidden")

const detail = (status: number, message: string) => HttpServerResponse.unsafeJson({ detail: message }, { status })

/** 422 with every violation of the request. */
export const validationFailed = (issues: ReadonlyArray<ValidationIssue>) =>
  HttpServerResponse.unsafeJson({ detail: issues }, { status: 422 })

export const unauthorized = (message: string) => detail(401, message)

export const notFound = (message: string) => detail(404, message)

/** The request is valid but the resource is not in a state that allows it (content not ready). */
export const conflict = (message: string) => detail(409, message)

export const badRequest = (message: string) => detail(400, message)

/**
 * 429 with exactly the body the provider documents (not FastAPI's `detail`), and a `Retry-After`
 * only when asked for: the provider documents none, so a client must not count on one.
 */
export const rateLimitExceeded = (retryAfterSeconds: Option.Option<number>) =>
  HttpServerResponse.unsafeJson(rateLimitExceededBody, {
    status: 429,
    ...(Option.isSome(retryAfterSeconds) ? { headers: { "retry-after": String(retryAfterSeconds.value) } } : {})
  })

/** 411, as gateways answer a request body sent without `Content-Length` (chunked). */
export const lengthRequired = () => detail(411, "Length Required: send the request body with a Content-Length header")

const serverErrorMessages: Record<number, string> = {
  500: "Internal Server Error",
  502: "Bad Gateway",
  503: "Service Unavailable"
}

export const serverError = (status: 500 | 502 | 503) => detail(status, serverErrorMessages[status] ?? "Server Error")
