/**
 * Downloading a body to a file: following redirects by hand (the key goes only to the API's own
 * origin), resuming with `Range: bytes=N-`, streaming chunk by chunk so memory stays flat, and
 * reporting a body shorter than announced as `IncompleteDownload` (resumable).
 *
 * Timeouts: each hop must answer (status and headers) within `firstByteTimeout`, and the body must
 * keep flowing: `idleTimeout` bounds the wait for each next chunk, never the whole transfer, so a
 * large file on a slow link is not cut off.
 */
import * as Headers from "@effect/platform/Headers"
import type * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import type * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import { Chunk, Data, Duration, Effect, Option, Stream } from "effect"
import * as Fs from "node:fs"
import { open, stat } from "node:fs/promises"
import { type ApiError, type DownloadError, IncompleteDownload, LocalFileError, StorageRefused, UnexpectedResponse } from "./MirageError.ts"
import { describeFsError, fsEffect } from "./localFile.ts"
import { bodyPrefix, type Exchange, failForStatus, isSuccess, readText } from "./responses.ts"
import { fromHttpClientError, timedOut } from "./transport.ts"

/** Where to write a download, and from which byte to resume. */
export interface DownloadOptions {
  /** The file to write. Created or truncated, unless resuming. */
  readonly path: string
  /**
   * Resume: keep the first `resumeFrom` bytes already in `path` and ask for the rest with
   * `Range: bytes=N-`. When the file is shorter than that, or the server ignores the range (200),
   * the download starts over (`resumed: false`).
   */
  readonly resumeFrom?: number | undefined
  /** Longest wait for the next chunk of the body; defaults to the client's request timeout. */
  readonly idleTimeout?: Duration.DurationInput | undefined
}

/** What a finished download did. */
export interface DownloadResult {
  /** Bytes written by this call. */
  readonly bytesWritten: number
  /** The whole file's length, as announced (Content-Length of a 200, total of a Content-Range). */
  readonly totalBytes: number | undefined
  /** Whether the bytes already on disk were kept and the rest appended. */
  readonly resumed: boolean
  /** Bytes in the file now. */
  readonly fileSize: number
}

/** How a download reaches the network. */
export interface Fetcher {
  readonly client: HttpClient.HttpClient
  /** Headers to add for a URL: the API key, for the API's own origin only. */
  readonly credentialsFor: (url: URL) => Readonly<Record<string, string>>
  /** Longest wait for each hop's status line and headers. */
  readonly firstByteTimeout: Duration.Duration
  /** Removes the key from any text that ends up in an error. */
  readonly scrub: (text: string) => string
}

/** Redirect hops followed before giving up. */
export const maxRedirects = 5

const redirectStatuses: ReadonlySet<number> = new Set([301, 302, 303, 307, 308])

const header = (response: HttpClientResponse.HttpClientResponse, name: string): string | undefined =>
  Option.getOrUndefined(Headers.get(response.headers, name))

const nonNegativeInt = (value: string | undefined): number | undefined => {
  if (value === undefined || !/^\s*\d+\s*$/.test(value)) return undefined
  return Number(value)
}

/** `Content-Range: bytes 100-199/1000` (total may be `*`). */
export const parseContentRange = (
  value: string | undefined
): { readonly start: number; readonly end: number; readonly total: number | undefined } | undefined => {
  const m = value === undefined ? null : /^\s*bytes\s+(\d+)-(\d+)\/(\d+|\*)\s*$/i.exec(value)
  if (m === null) return undefined
  return { start: Number(m[1]), end: Number(m[2]), total: m[3] === "*" ? undefined : Number(m[3]) }
}

/** `Content-Range: bytes *\/1000` of a 416. */
const parseUnsatisfiedRange = (value: string | undefined): number | undefined => {
  const m = value === undefined ? null : /^\s*bytes\s+\*\/(\d+)\s*$/i.exec(value)
  return m === null ? undefined : Number(m[1])
}

const exchangeFor = (fetcher: Fetcher, operation: string, url: URL): Exchange => ({
  operation,
  path: url.pathname,
  scrub: fetcher.scrub
})

const parseUrl = (fetcher: Fetcher, operation: string, url: string, base?: URL): Effect.Effect<URL, UnexpectedResponse> =>
  Effect.try({
    try: () => new URL(url, base),
    catch: () =>
      new UnexpectedResponse({
        operation,
        status: 0,
        problem: fetcher.scrub(`not a valid URL: ${url}`).slice(0, 300),
        bodyPrefix: ""
      })
  })

/** One GET, answered within the first-byte timeout. */
const getOnce = (
  fetcher: Fetcher,
  operation: string,
  url: URL,
  headers: Readonly<Record<string, string>>
): Effect.Effect<HttpClientResponse.HttpClientResponse, ApiError> =>
  fetcher.client
    .execute(HttpClientRequest.get(url).pipe(HttpClientRequest.setHeaders({ ...headers, ...fetcher.credentialsFor(url) })))
    .pipe(
      Effect.mapError((e) => fromHttpClientError(operation, e, fetcher.scrub)),
      Effect.timeoutFail({
        duration: fetcher.firstByteTimeout,
        onTimeout: () => timedOut(operation, `no answer from ${url.origin} within ${Duration.format(fetcher.firstByteTimeout)}`)
      })
    )

/**
 * GET `url`, following up to `maxRedirects` redirects. Each hop gets the key only when it is on the
 * API's origin (`credentialsFor`), so a redirect to file storage never carries it.
 */
export const getFollowingRedirects = (
  fetcher: Fetcher,
  operation: string,
  url: URL,
  headers: Readonly<Record<string, string>>
): Effect.Effect<{ readonly response: HttpClientResponse.HttpClientResponse; readonly url: URL }, ApiError> =>
  Effect.gen(function* () {
    let current = url
    for (let hop = 0; ; hop++) {
      const response = yield* getOnce(fetcher, operation, current, headers)
      if (!redirectStatuses.has(response.status)) return { response, url: current }
      const location = header(response, "location")
      // Drain the small redirect body so the connection is released.
      yield* readText(exchangeFor(fetcher, operation, current), response).pipe(Effect.timeout(fetcher.firstByteTimeout), Effect.ignore)
      if (location === undefined) {
        return yield* Effect.fail(
          new UnexpectedResponse({ operation, status: response.status, problem: "redirect without a Location", bodyPrefix: "" })
        )
      }
      if (hop + 1 > maxRedirects) {
        return yield* Effect.fail(
          new UnexpectedResponse({
            operation,
            status: response.status,
            problem: `more than ${maxRedirects} redirects`,
            bodyPrefix: ""
          })
        )
      }
      current = yield* parseUrl(fetcher, operation, location, current)
    }
  })

class IdleTimeout extends Data.TaggedError("IdleTimeout")<{}> {}

/** Writes every buffer at `position` (looping over short writes); resolves with the bytes written. */
const writeAll = (
  fd: number,
  buffers: ReadonlyArray<Uint8Array>,
  position: number,
  onError: (cause: unknown) => LocalFileError
): Effect.Effect<number, LocalFileError> =>
  Effect.async<number, LocalFileError>((resume) => {
    let pending = buffers.filter((b) => b.byteLength > 0)
    let at = position
    const step = () => {
      if (pending.length === 0) return resume(Effect.succeed(at - position))
      Fs.writev(fd, pending, at, (error, bytesWritten) => {
        if (error) return resume(Effect.fail(onError(error)))
        at += bytesWritten
        let skip = bytesWritten
        const rest: Array<Uint8Array> = []
        for (const b of pending) {
          if (skip >= b.byteLength) {
            skip -= b.byteLength
          } else {
            rest.push(skip > 0 ? b.subarray(skip) : b)
            skip = 0
          }
        }
        pending = rest
        step()
      })
    }
    step()
  })

/** How `writeBody` writes: where, from which byte, and how much it expects. */
export interface BodyTarget {
  readonly path: string
  /** Keep the file's first `position` bytes and write after them (0: truncate). */
  readonly position: number
  /** Bytes the body should have (its Content-Length), when announced. */
  readonly expectedBytes: number | undefined
  /** The whole file's length, for the error's report. */
  readonly totalBytes: number | undefined
  readonly idleTimeout: Duration.Duration
}

/**
 * Streams `response`'s body into `target.path`, chunk by chunk, and returns the bytes written.
 * A connection lost mid-body, a stall longer than `idleTimeout`, or a body shorter than
 * `expectedBytes` is an `IncompleteDownload` whose `bytesOnDisk` is where to resume.
 */
export const writeBody = (
  operation: string,
  response: HttpClientResponse.HttpClientResponse,
  target: BodyTarget
): Effect.Effect<number, IncompleteDownload | LocalFileError> =>
  Effect.acquireUseRelease(
    fsEffect(operation, target.path, async () => {
      if (target.position === 0) return open(target.path, "w")
      const handle = await open(target.path, "r+")
      await handle.truncate(target.position)
      return handle
    }),
    (handle) =>
      Effect.clockWith((clock) =>
        Effect.suspend(() => {
          let written = 0
          let lastProgress = clock.unsafeCurrentTimeMillis()
          const idleMillis = Duration.toMillis(target.idleTimeout)
          const incomplete = (reason: string) =>
            new IncompleteDownload({
              operation,
              path: target.path,
              bytesOnDisk: target.position + written,
              totalBytes: target.totalBytes,
              reason
            })
          const writeError = (cause: unknown) => new LocalFileError({ operation, path: target.path, reason: describeFsError(cause) })
          const consume = Stream.runForEachChunk(response.stream, (chunk) =>
            Effect.suspend(() => {
              lastProgress = clock.unsafeCurrentTimeMillis()
              // Uninterruptible: the file is closed only once no write to its descriptor is pending.
              return Effect.uninterruptible(writeAll(handle.fd, Chunk.toReadonlyArray(chunk), target.position + written, writeError))
            }).pipe(
              Effect.map((n) => {
                written += n
                lastProgress = clock.unsafeCurrentTimeMillis()
              })
            )
          )
          // One watchdog for the whole body (cheaper than a timer per chunk): fails once no chunk
          // has arrived for `idleTimeout`.
          const checkEvery = Duration.millis(Math.max(10, Math.min(1000, Math.floor(idleMillis / 4))))
          const watchdog: Effect.Effect<never, IdleTimeout> = Effect.sleep(checkEvery).pipe(
            Effect.zipRight(
              Effect.suspend(() =>
                clock.unsafeCurrentTimeMillis() - lastProgress >= idleMillis ? Effect.fail(new IdleTimeout()) : Effect.void
              )
            ),
            Effect.forever
          )
          return Effect.raceFirst(consume, watchdog).pipe(
            Effect.catchTags({
              IdleTimeout: () => Effect.fail(incomplete(`no data for ${Duration.format(target.idleTimeout)}`)),
              ResponseError: () => Effect.fail(incomplete("the connection broke before the end of the body"))
            }),
            Effect.flatMap(() =>
              target.expectedBytes !== undefined && written < target.expectedBytes
                ? Effect.fail(incomplete(`the body ended after ${written} of ${target.expectedBytes} bytes`))
                : Effect.succeed(written)
            )
          )
        })
      ),
    (handle) => Effect.promise(() => handle.close().catch(() => undefined))
  )

/** The size of `path`, or `undefined` when it does not exist (or cannot be read). */
const sizeOf = (path: string): Effect.Effect<number | undefined> =>
  Effect.promise(() =>
    stat(path).then(
      (s) => (s.isFile() ? s.size : undefined),
      () => undefined
    )
  )

/**
 * Downloads `url` to `options.path` (see `DownloadOptions`), following redirects with
 * `getFollowingRedirects`.
 */
export const download = (
  fetcher: Fetcher,
  operation: string,
  url: string,
  options: DownloadOptions,
  defaultIdleTimeout: Duration.Duration
): Effect.Effect<DownloadResult, DownloadError> =>
  Effect.gen(function* () {
    const target = yield* parseUrl(fetcher, operation, url)
    const idleTimeout = options.idleTimeout === undefined ? defaultIdleTimeout : Duration.decode(options.idleTimeout)
    const requested = Math.max(0, Math.floor(options.resumeFrom ?? 0))
    const onDisk = requested > 0 ? yield* sizeOf(options.path) : undefined
    // Resume only when the bytes to keep are really there.
    const offset = onDisk !== undefined && onDisk >= requested ? requested : 0

    const attempt = (from: number): Effect.Effect<DownloadResult, DownloadError> =>
      Effect.gen(function* () {
        const headers: Record<string, string> = from > 0 ? { range: `bytes=${from}-` } : {}
        const { response, url: finalUrl } = yield* getFollowingRedirects(fetcher, operation, target, headers)
        const exchange = exchangeFor(fetcher, operation, finalUrl)
        const contentLength = nonNegativeInt(header(response, "content-length"))

        if (from > 0 && response.status === 416) {
          yield* readText(exchange, response).pipe(Effect.ignore)
          const total = parseUnsatisfiedRange(header(response, "content-range"))
          // Everything is already on disk.
          if (total === from) return { bytesWritten: 0, totalBytes: total, resumed: true, fileSize: total }
          return yield* attempt(0)
        }

        if (response.status === 206) {
          const range = parseContentRange(header(response, "content-range"))
          if (range === undefined || range.start !== from) {
            const text = yield* readText(exchange, response).pipe(Effect.orElseSucceed(() => ""))
            return yield* Effect.fail(
              new UnexpectedResponse({
                operation,
                status: 206,
                problem: `asked for bytes from ${from}, got Content-Range ${header(response, "content-range") ?? "(none)"}`,
                bodyPrefix: bodyPrefix(exchange, text)
              })
            )
          }
          const expectedBytes = contentLength ?? range.end - range.start + 1
          const written = yield* writeBody(operation, response, {
            path: options.path,
            position: from,
            expectedBytes,
            totalBytes: range.total,
            idleTimeout
          })
          return { bytesWritten: written, totalBytes: range.total, resumed: from > 0, fileSize: from + written }
        }

        if (isSuccess(response.status)) {
          // A 200 to a ranged request is the whole file: start over.
          const written = yield* writeBody(operation, response, {
            path: options.path,
            position: 0,
            expectedBytes: contentLength,
            totalBytes: contentLength,
            idleTimeout
          })
          return { bytesWritten: written, totalBytes: contentLength, resumed: false, fileSize: written }
        }

        // A 4xx from the storage (a host without the key) is the storage's, not a verdict on the video.
        if (response.status >= 400 && response.status < 500 && Object.keys(fetcher.credentialsFor(finalUrl)).length === 0) {
          yield* readText(exchange, response).pipe(Effect.ignore)
          return yield* Effect.fail(new StorageRefused({ operation, status: response.status, host: finalUrl.host }))
        }
        return yield* failForStatus(exchange, response)
      })

    return yield* attempt(offset)
  })
