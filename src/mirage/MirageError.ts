/**
 * The typed failures of the Mirage client.
 *
 * Every error names the `operation` that produced it (`createVideo`, `downloadContent`, …), carries
 * the fields a caller acts on (a status, a `Retry-After`, whether the request body may have reached
 * the server, how many bytes are already on disk) and a `message` a person can read.
 *
 * None of them ever holds the API key, a request, its headers or a platform error object: they are
 * built from plain values only, so printing, logging or serialising them cannot leak the key.
 */
import { Duration, Schema } from "effect"
import { type Video, ValidationIssue } from "./schemas.ts"

const operation = Schema.String

/** The environment variable that should hold the API key is unset or empty. Raised before any request. */
export class MissingApiKey extends Schema.TaggedError<MissingApiKey>()("MissingApiKey", {
  operation,
  variable: Schema.String
}) {
  override get message(): string {
    return `No Mirage API key: the environment variable ${this.variable} is not set or is empty`
  }
}

/** 422: the API rejected the request's fields; `issues` says where (`loc`) and why (`msg`). */
export class ValidationFailed extends Schema.TaggedError<ValidationFailed>()("ValidationFailed", {
  operation,
  issues: Schema.Array(ValidationIssue)
}) {
  override get message(): string {
    const issues =
      this.issues.length === 0 ? "no details given" : this.issues.map((i) => `${i.loc.join(".") || "request"}: ${i.msg}`).join("; ")
    return `${this.operation}: the Mirage API rejected the request (422): ${issues}`
  }
}

/** 401 or 403: the key is missing, wrong or not allowed to do this. */
export class Unauthorized extends Schema.TaggedError<Unauthorized>()("Unauthorized", {
  operation,
  status: Schema.Number
}) {
  override get message(): string {
    return `${this.operation}: the Mirage API refused the API key (HTTP ${this.status})`
  }
}

/** 404: no such video, template or overlay (`path` is the request path, without query). */
export class NotFound extends Schema.TaggedError<NotFound>()("NotFound", {
  operation,
  path: Schema.String
}) {
  override get message(): string {
    return `${this.operation}: not found (${this.path})`
  }
}

/**
 * 429: throttled. `retryAfter` is how long to wait: from `Retry-After` when the server sent one
 * that parses, else from `X-RateLimit-Reset`, else `undefined`. `type` and `providerMessage` are the
 * documented body's `error.type` / `error.message` when it came; `limit`, `remaining` and `resetAt`
 * (epoch milliseconds) come from `X-RateLimit-*` headers, which this provider does not document
 * but gateways often send.
 */
export class RateLimited extends Schema.TaggedError<RateLimited>()("RateLimited", {
  operation,
  retryAfter: Schema.UndefinedOr(Schema.DurationFromSelf),
  type: Schema.optional(Schema.String),
  providerMessage: Schema.optional(Schema.String),
  limit: Schema.optional(Schema.Number),
  remaining: Schema.optional(Schema.Number),
  resetAt: Schema.optional(Schema.Number)
}) {
  override get message(): string {
    const said = this.providerMessage ?? this.type
    const details = [
      ...(this.retryAfter === undefined ? [] : [`retry after ${Duration.format(this.retryAfter)}`]),
      ...(this.remaining === undefined
        ? []
        : [this.limit === undefined ? `${this.remaining} requests remaining` : `${this.remaining} of ${this.limit} requests remaining`]),
      ...(this.resetAt === undefined ? [] : [`the limit resets at ${new Date(this.resetAt).toISOString()}`])
    ]
    return `${this.operation}: rate limited by the Mirage API (HTTP 429)${said === undefined ? "" : `: ${said}`}${details
      .map((d) => `; ${d}`)
      .join("")}`
  }
}

/** The statuses that refuse a request for its form rather than its content (`RequestRefused`). */
export const refusalStatuses: ReadonlySet<number> = new Set([411, 413, 415])

const refusalStatusText: Readonly<Record<number, string>> = {
  411: "Length Required",
  413: "Content Too Large",
  415: "Unsupported Media Type"
}

/**
 * 411, 413 or 415: the server (the API or a gateway in front of it) refused the request for its
 * form: no `Content-Length`, too large, a media type it does not take. Sending the same request
 * again cannot help, so it is not retried. `refused` is `the upload` (a body with files) or `the
 * request`; `reason` says why in a user's words; `serverMessage` is what the server said, when its
 * body said something readable. Built by `requestRefused`.
 */
export class RequestRefused extends Schema.TaggedError<RequestRefused>()("RequestRefused", {
  operation,
  status: Schema.Number,
  refused: Schema.String,
  reason: Schema.String,
  serverMessage: Schema.optional(Schema.String)
}) {
  override get message(): string {
    const text = refusalStatusText[this.status]
    const status = text === undefined ? `HTTP ${this.status}` : `HTTP ${this.status} ${text}`
    const server = this.serverMessage === undefined ? "" : ` (the server said: ${this.serverMessage})`
    return `${this.operation}: the server refused ${this.refused} (${status}): ${this.reason}${server}`
  }
}

/** The `RequestRefused` for `status`, for a request that carried `files` file parts. */
export const requestRefused = (operation: string, status: number, files: number, serverMessage: string | undefined): RequestRefused => {
  const size =
    files === 0
      ? "the request is larger than the server accepts"
      : files === 1
        ? "the file is larger than the server accepts"
        : "the files together are larger than the server accepts"
  const reason =
    status === 411
      ? "it requires a Content-Length header"
      : status === 413
        ? size
        : status === 415
          ? "it does not accept the media type of what was sent"
          : "the server does not accept requests of this form"
  return new RequestRefused({
    operation,
    status,
    refused: files === 0 ? "the request" : "the upload",
    reason,
    ...(serverMessage === undefined ? {} : { serverMessage })
  })
}

/** 5xx. */
export class ServerError extends Schema.TaggedError<ServerError>()("ServerError", {
  operation,
  status: Schema.Number
}) {
  override get message(): string {
    return `${this.operation}: the Mirage API failed (HTTP ${this.status})`
  }
}

/**
 * The exchange broke: connection refused, DNS failure, reset, timeout, a body cut short.
 *
 * `bodySent` is `false` only when the request certainly never reached the server (connection
 * refused, name resolution failed, invalid URL). Otherwise it is `true`: the server may have
 * received and acted on the request, so a submit that failed this way has an unknown outcome.
 */
export class TransportError extends Schema.TaggedError<TransportError>()("TransportError", {
  operation,
  reason: Schema.String,
  bodySent: Schema.Boolean
}) {
  override get message(): string {
    const outcome = this.bodySent ? "the request may have reached the server" : "the request never reached the server"
    return `${this.operation}: ${this.reason} (${outcome})`
  }
}

/** A status this client has no meaning for, or a body that does not decode as documented. */
export class UnexpectedResponse extends Schema.TaggedError<UnexpectedResponse>()("UnexpectedResponse", {
  operation,
  status: Schema.Number,
  /** What was wrong, in a few words. */
  problem: Schema.String,
  /** The first ~200 bytes of the body, as text. */
  bodyPrefix: Schema.String
}) {
  override get message(): string {
    const body = this.bodyPrefix === "" ? "empty body" : `body starts ${JSON.stringify(this.bodyPrefix)}`
    return `${this.operation}: unexpected response from the Mirage API (HTTP ${this.status}): ${this.problem}; ${body}`
  }
}

/**
 * A job reached FAILED. `code` and `message` are the API's own (`rate_limit_exceeded` is worth a
 * resubmit; most other codes are not). Built by `failedVideoError`.
 */
export class VideoFailed extends Schema.TaggedError<VideoFailed>()("VideoFailed", {
  operation,
  videoId: Schema.String,
  code: Schema.String,
  message: Schema.String
}) {}

/**
 * A download ended before the announced length (or the connection broke mid-body). The file keeps
 * the `bytesOnDisk` received so far: pass them as `resumeFrom` to continue.
 */
export class IncompleteDownload extends Schema.TaggedError<IncompleteDownload>()("IncompleteDownload", {
  operation,
  path: Schema.String,
  bytesOnDisk: Schema.Number,
  totalBytes: Schema.UndefinedOr(Schema.Number),
  reason: Schema.String
}) {
  override get message(): string {
    const of = this.totalBytes === undefined ? "" : ` of ${this.totalBytes}`
    return `${this.operation}: download incomplete, ${this.bytesOnDisk}${of} bytes in ${this.path} (${this.reason}); resume from ${this.bytesOnDisk}`
  }
}

/**
 * The file storage a download was redirected to refused or could not find the file (a 4xx from a
 * host other than the API's: an expired link, a file not there yet). Says nothing about the video
 * itself, which only the API can: the download is asked for again through the API.
 */
export class StorageRefused extends Schema.TaggedError<StorageRefused>()("StorageRefused", {
  operation,
  status: Schema.Number,
  host: Schema.String
}) {
  override get message(): string {
    return `${this.operation}: the file storage (${this.host}) answered HTTP ${this.status} for the video's file; it is asked for again through the API`
  }
}

/** A local file could not be read (an upload) or written (a download). */
export class LocalFileError extends Schema.TaggedError<LocalFileError>()("LocalFileError", {
  operation,
  path: Schema.String,
  reason: Schema.String
}) {
  override get message(): string {
    return `${this.operation}: ${this.path}: ${this.reason}`
  }
}

/** What any API call can fail with. */
export type ApiError =
  | ValidationFailed
  | Unauthorized
  | NotFound
  | RateLimited
  | ServerError
  | TransportError
  | UnexpectedResponse
  | RequestRefused

/** What an upload (multipart with files) or a call writing a file can fail with. */
export type FileApiError = ApiError | LocalFileError

/** What a download can fail with. */
export type DownloadError = FileApiError | IncompleteDownload | StorageRefused

/** Every typed failure of the Mirage client. */
export type MirageError = MissingApiKey | DownloadError | VideoFailed

export const MirageError = Schema.Union(
  MissingApiKey,
  ValidationFailed,
  Unauthorized,
  NotFound,
  RateLimited,
  ServerError,
  TransportError,
  UnexpectedResponse,
  RequestRefused,
  VideoFailed,
  IncompleteDownload,
  StorageRefused,
  LocalFileError
)

/**
 * The typed error of a FAILED video: the runtime calls this when a poll shows `status: FAILED`.
 * A FAILED video without an `error` payload gets the code `unknown`.
 */
export const failedVideoError = (video: Video, operation = "getVideo"): VideoFailed =>
  new VideoFailed({
    operation,
    videoId: video.id,
    code: video.error?.code ?? "unknown",
    message: video.error?.message ?? `video ${video.id} ended with status ${video.status} and no error details`
  })
