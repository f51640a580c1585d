import { FileSystem, HttpRouter, HttpServerRequest, HttpServerResponse } from "@effect/platform"
import { NodeHttpServerRequest } from "@effect/platform-node"
import { Effect, Option } from "effect"
import { createReadStream } from "node:fs"
import { badRequest, notFound } from "./apiErrors.ts"
import { routeKey } from "./apiGate.ts"
import { decideTruncation } from "./faultDice.ts"
import type { SimContext } from "./simContext.ts"

/**
 * The second origin, standing in for cloud storage: serves published files with their length and
 * byte ranges (`Range: bytes=N-` answers 206, so downloads resume). Like a real storage host it
 * never receives the API key: any request carrying `x-api-key` is refused, which is how tests
 * prove a client does not leak it across the redirect. Some downloads are cut short on purpose
 * (`truncateRate`): the headers promise the full length, then the connection closes midway.
 */

/** The byte range asked for, or None to send the whole file (RFC 9110: ignore what we don't support). */
type RangeRequest = { readonly start: number; readonly end: number } | "unsatisfiable"

const parseRange = (header: string | undefined, size: number): Option.Option<RangeRequest> => {
  if (header === undefined) return Option.none()
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim())
  if (match === null) return Option.none()
  const [, from = "", to = ""] = match
  if (from === "" && to === "") return Option.none()
  if (from === "") {
    // Suffix range: the last N bytes.
    const suffix = Number(to)
    if (suffix === 0) return Option.some("unsatisfiable")
    return Option.some({ start: Math.max(0, size - suffix), end: size - 1 })
  }
  const start = Number(from)
  const end = to === "" ? size - 1 : Math.min(Number(to), size - 1)
  if (start >= size || end < start) return Option.some("unsatisfiable")
  return Option.some({ start, end })
}

const contentTypeOf = (name: string) => (name.endsWith(".mov") ? "video/quicktime" : "video/mp4")

/** Sends the headers and the first `bytes` of the body, then closes the connection. */
const cutShort = (
  request: HttpServerRequest.HttpServerRequest,
  status: number,
  headers: Record<string, string>,
  path: string,
  start: number,
  bytes: number
) =>
  Effect.async<never>(() => {
    const response = NodeHttpServerRequest.toServerResponse(request)
    response.writeHead(status, headers)
    const stream = createReadStream(path, { start, end: start + bytes - 1 })
    stream.pipe(response, { end: false })
    // A graceful close after the partial body: the client sees fewer bytes than promised.
    stream.on("end", () => response.socket?.end())
    stream.on("error", () => response.socket?.destroy())
    // The server interrupts this handler once the socket closes.
    return Effect.sync(() => stream.destroy())
  })

const serveFile = (context: SimContext, method: "GET" | "HEAD") =>
  Effect.gen(function* () {
    yield* context.counters.countRequest(routeKey(method, "/files/{file}"))
    const request = yield* HttpServerRequest.HttpServerRequest
    if (request.headers["x-api-key"] !== undefined) {
      return badRequest("This storage host does not accept API keys: x-api-key must not be sent here")
    }
    const { file } = yield* HttpRouter.params
    const path = yield* context.store.lookup(file ?? "")
    if (Option.isNone(path)) return notFound("No such file")
    const fs = yield* FileSystem.FileSystem
    const info = yield* Effect.option(fs.stat(path.value))
    if (Option.isNone(info)) return notFound("No such file")
    const size = Number(info.value.size)
    const baseHeaders = { "accept-ranges": "bytes", "content-type": contentTypeOf(file ?? "") }
    const range = parseRange(request.headers["range"], size)
    if (Option.isSome(range) && range.value === "unsatisfiable") {
      return HttpServerResponse.empty({ status: 416, headers: { ...baseHeaders, "content-range": `bytes */${size}` } })
    }
    const partial = Option.isSome(range) && range.value !== "unsatisfiable" ? range.value : undefined
    const start = partial?.start ?? 0
    const end = partial?.end ?? size - 1
    const length = Math.max(0, end - start + 1)
    const status = partial ? 206 : 200
    const headers: Record<string, string> = {
      ...baseHeaders,
      "content-length": String(length),
      ...(partial ? { "content-range": `bytes ${start}-${end}/${size}` } : {})
    }
    if (method === "HEAD" || length === 0) return HttpServerResponse.empty({ status, headers })
    const cut = yield* decideTruncation(context.dice, context.options.truncateRate, length)
    if (Option.isSome(cut)) return yield* cutShort(request, status, headers, path.value, start, cut.value)
    return HttpServerResponse.raw(createReadStream(path.value, { start, end }), { status, headers })
  })

export const fileHostRouter = (context: SimContext) =>
  HttpRouter.empty.pipe(
    HttpRouter.get("/files/:file", serveFile(context, "GET")),
    HttpRouter.head("/files/:file", serveFile(context, "HEAD"))
  )
