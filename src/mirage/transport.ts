/**
 * Turning a failed HTTP exchange into a `TransportError`, and deciding whether the request may have
 * reached the server (`bodySent`).
 *
 * The runtime treats a submit that failed with `bodySent: true` as an unknown outcome (it may have
 * created a paid video), so `bodySent` is `false` only for failures that happen before a connection
 * exists: refused, unreachable, name resolution, an invalid URL.
 */
import type * as HttpClientError from "@effect/platform/HttpClientError"
import { LocalFileError, TransportError } from "./MirageError.ts"

/** Error codes that mean no connection was ever made, so nothing was sent. */
const neverConnected: ReadonlySet<string> = new Set([
  "ECONNREFUSED",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EAI_NONAME",
  "EAI_FAIL",
  "EAI_NODATA",
  "ENETUNREACH",
  "EHOSTUNREACH",
  "EADDRNOTAVAIL",
  "ERR_INVALID_URL"
])

const describedCodes: Readonly<Record<string, string>> = {
  ECONNREFUSED: "connection refused",
  ENOTFOUND: "host not found",
  EAI_AGAIN: "host name lookup failed",
  ENETUNREACH: "network unreachable",
  EHOSTUNREACH: "host unreachable",
  ECONNRESET: "connection reset",
  EPIPE: "connection closed while sending",
  ETIMEDOUT: "connection timed out",
  UND_ERR_SOCKET: "connection closed",
  UND_ERR_CONNECT_TIMEOUT: "connection timed out"
}

const codeOf = (u: unknown): string | undefined => {
  if (typeof u !== "object" || u === null) return undefined
  const code: unknown = Reflect.get(u, "code")
  return typeof code === "string" ? code : undefined
}

const messageOf = (u: unknown): string | undefined => {
  if (typeof u !== "object" || u === null) return undefined
  const message: unknown = Reflect.get(u, "message")
  return typeof message === "string" && message !== "" ? message : undefined
}

/** The error itself, then its `cause` chain and any `errors` of an AggregateError (happy eyeballs). */
const causes = (u: unknown, depth = 0): ReadonlyArray<unknown> => {
  if (depth > 4 || typeof u !== "object" || u === null) return [u]
  const nested: unknown = Reflect.get(u, "errors")
  const cause: unknown = Reflect.get(u, "cause")
  const fromErrors = Array.isArray(nested) ? nested.flatMap((e: unknown) => causes(e, depth + 1)) : []
  const fromCause = cause === undefined ? [] : causes(cause, depth + 1)
  return [u, ...fromErrors, ...fromCause]
}

/** `true` unless the failure certainly happened before any byte reached the server. */
export const mayHaveReachedServer = (cause: unknown): boolean => {
  const codes = causes(cause)
    .map(codeOf)
    .filter((c): c is string => c !== undefined)
  if (codes.length === 0) return true
  return !codes.every((c) => neverConnected.has(c))
}

/** A short description of a low-level failure, e.g. `connection refused (ECONNREFUSED)`. */
export const describeCause = (cause: unknown): string => {
  const all = causes(cause)
  const code = all.map(codeOf).find((c) => c !== undefined)
  if (code !== undefined) {
    const described = describedCodes[code]
    if (described !== undefined) return `${described} (${code})`
    const message = all.map(messageOf).find((m) => m !== undefined)
    return message === undefined ? code : `${message} (${code})`
  }
  return all.map(messageOf).find((m) => m !== undefined) ?? "transport failure"
}

/**
 * A platform `HttpClientError` as a `TransportError`. Only the description is kept: the platform
 * error holds the request (and with it the headers), which must not travel further.
 */
export const fromHttpClientError = (
  operation: string,
  error: HttpClientError.HttpClientError,
  scrub: (text: string) => string
): TransportError => {
  if (error._tag === "RequestError") {
    switch (error.reason) {
      case "InvalidUrl":
        return new TransportError({ operation, reason: scrub(`invalid URL: ${describeCause(error.cause)}`), bodySent: false })
      case "Encode":
        return new TransportError({
          operation,
          reason: scrub(`could not send the request body: ${describeCause(error.cause)}`),
          bodySent: true
        })
      case "Transport":
        return new TransportError({
          operation,
          reason: scrub(describeCause(error.cause)),
          bodySent: mayHaveReachedServer(error.cause)
        })
    }
  }
  return new TransportError({ operation, reason: scrub(`failed reading the response: ${describeCause(error.cause)}`), bodySent: true })
}

/** A request that got no (complete) answer in time: it may have been received and acted upon. */
export const timedOut = (operation: string, what: string): TransportError =>
  new TransportError({ operation, reason: `timed out: ${what}`, bodySent: true })

/**
 * `fromHttpClientError` for a request whose body streams from local files: when the body's own
 * stream failed (a file that could not be read, or changed size while it was sent, see
 * `readExactly`), that `LocalFileError` is the failure. The request was cut off before its
 * announced length, so the server cannot have taken it as a whole.
 */
export const fromUploadError = (
  operation: string,
  error: HttpClientError.HttpClientError,
  scrub: (text: string) => string
): TransportError | LocalFileError =>
  error._tag === "RequestError" && error.reason === "Encode" && error.cause instanceof LocalFileError
    ? error.cause
    : fromHttpClientError(operation, error, scrub)
