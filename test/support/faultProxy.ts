/**
 * A real HTTP proxy on loopback in front of a simulator, for the faults a real provider (or the
 * gateway and the storage in front of it) shows and the simulator cannot: on one route only, on
 * the nth request, changed between two runs of one campaign (the simulator's own fault options
 * are fixed when it starts, and its videos die with it), the whole API unreachable for a while.
 * The client under test talks HTTP to it as it would to the provider: nothing of it is mocked.
 *
 * Two origins, as the simulator has: the API, and, when `files` is given, the file host its
 * content redirects lead to (those redirects are then rewritten to lead through the proxy). The
 * proxy's `rule` decides per request and may be changed at any time; every request is logged with
 * its arrival time, the decision, who answered and the status sent back.
 */
import { Agent, createServer, type IncomingHttpHeaders, type IncomingMessage, request, type Server, type ServerResponse } from "node:http"
import type { Socket } from "node:net"

export type Origin = "api" | "files"

export interface ProxyRequest {
  readonly origin: Origin
  readonly method: string
  /** The path without its query. */
  readonly path: string
  /** "POST /v1/videos", "GET /v1/videos/{video_id}", "GET /files/{file}", … (as the simulator's stats key them). */
  readonly route: string
  /** 1 for the first request of this route through the proxy, 2 for the second, … */
  readonly nthOfRoute: number
  readonly headers: IncomingHttpHeaders
}

/** The upstream answer a `Replace` sees besides its text. */
export interface UpstreamAnswer {
  readonly status: number
  readonly headers: IncomingHttpHeaders
}

export type Decision =
  /** Passed on as it came, and its answer passed back. */
  | { readonly _tag: "Forward" }
  /** Answered by the proxy (once the whole request is read, as a well-behaved gateway does); it never reaches the simulator. */
  | {
      readonly _tag: "Answer"
      readonly status: number
      readonly body: string
      readonly contentType: string
      readonly headers?: Readonly<Record<string, string>>
    }
  /** Passed on (it has its effect at the simulator), and its answer's body replaced; status and content type are the upstream's unless given. */
  | {
      readonly _tag: "Replace"
      readonly body: (upstream: string, answer: UpstreamAnswer) => string
      readonly status?: number
      readonly contentType?: string
    }
  /** Passed on; the answer's headers promise the whole body, and the connection closes after `keep(length)` bytes of it. */
  | { readonly _tag: "CutBody"; readonly keep: (length: number) => number }
  /** Passed on; the connection is destroyed before any answer (a reset after the simulator acted). */
  | { readonly _tag: "Drop" }

export type Rule = (request: ProxyRequest) => Decision

export const forward: Decision = { _tag: "Forward" }

/** The rule of a proxy that injects nothing. */
export const forwardAll: Rule = () => forward

export const htmlType = "text/html; charset=utf-8"

/** A gateway's error page, as proxies and load balancers answer in place of the API. */
export const htmlPage = "<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body><h1>Bad Gateway</h1></body></html>\n"

/** The documented body of a quota refusal. */
export const rateLimitBody = { error: { type: "rate_limit_exceeded", message: "Rate limit exceeded." } }

export const answer = (status: number, body: string, contentType: string = htmlType): Decision => ({
  _tag: "Answer",
  status,
  body,
  contentType
})

export const answerJson = (status: number, body: unknown, headers?: Readonly<Record<string, string>>): Decision => ({
  _tag: "Answer",
  status,
  body: JSON.stringify(body),
  contentType: "application/json",
  ...(headers === undefined ? {} : { headers })
})

export const replace = (
  body: (upstream: string, answer: UpstreamAnswer) => string,
  options: { readonly status?: number; readonly contentType?: string } = {}
): Decision => ({ _tag: "Replace", body, ...options })

/** A 2xx JSON answer edited as an object on its way back; any other answer passes unchanged. */
export const rewriteJson = (edit: (body: Record<string, unknown>) => Record<string, unknown>): Decision =>
  replace((text, upstream) => {
    const isJson = String(upstream.headers["content-type"] ?? "").includes("json")
    if (upstream.status < 200 || upstream.status >= 300 || !isJson) return text
    return JSON.stringify(edit(JSON.parse(text) as Record<string, unknown>))
  })

export const cutBody = (keep: (length: number) => number): Decision => ({ _tag: "CutBody", keep })

export const drop: Decision = { _tag: "Drop" }

/** The status route of one video: `GET /v1/videos/{video_id}` (not captions, not content). */
export const isStatusRequest = (r: ProxyRequest) => r.origin === "api" && r.route === "GET /v1/videos/{video_id}"
export const isSubmitRequest = (r: ProxyRequest) => r.origin === "api" && r.route === "POST /v1/videos"
export const isListRequest = (r: ProxyRequest) => r.origin === "api" && r.route === "GET /v1/videos"
export const isFileRequest = (r: ProxyRequest) => r.origin === "files" && r.method === "GET"

export interface LoggedRequest extends ProxyRequest {
  /** Arrival at the proxy, epoch milliseconds with sub-millisecond precision. */
  readonly at: number
  readonly decision: Decision["_tag"]
  /** "proxy": an `Answer`, the request never reached the simulator; "upstream": it did. */
  readonly answeredBy: "proxy" | "upstream"
  /** The status sent back (undefined until answered, or when the connection broke first). */
  status?: number
}

export interface FaultProxy {
  /** The API's origin, for the client's base URL. */
  readonly baseUrl: string
  /** The file host's origin, when the proxy stands in front of it. */
  readonly fileBaseUrl: string | undefined
  /** Decides every request from now on. */
  rule: Rule
  readonly log: ReadonlyArray<LoggedRequest>
  /**
   * The API becomes unreachable: its listening socket is closed (new connections are refused),
   * idle kept-alive connections are dropped, and a connection still carrying a request is dropped
   * once its answer is sent (so no request the simulator acted on loses its answer). The file
   * origin stays up.
   */
  readonly goDown: () => Promise<void>
  /** The API listens again, on the same port. */
  readonly comeBack: () => Promise<void>
  readonly close: () => Promise<void>
}

export interface Upstream {
  /** The simulator's API origin. */
  readonly api: string
  /** Its file host: give it to put the proxy in front of the downloads too. */
  readonly files?: string
}

const host = "127.0.0.1"

const now = () => performance.timeOrigin + performance.now()

const routeOf = (origin: Origin, method: string, path: string): string => {
  const template =
    origin === "files"
      ? path.replace(/^\/files\/[^/]+$/, "/files/{file}")
      : path
          .replace(/^\/v1\/videos\/(?!captions(?:\/|$))[^/]+\/content$/, "/v1/videos/{video_id}/content")
          .replace(/^\/v1\/videos\/(?!captions(?:\/|$))[^/]+$/, "/v1/videos/{video_id}")
  return `${method} ${template}`
}

/** Headers about the connection, not the answer: the proxy keeps its own connections with the client. */
const answerHeaders = (headers: IncomingHttpHeaders): IncomingHttpHeaders => {
  const copy = { ...headers }
  delete copy.connection
  delete copy["keep-alive"]
  return copy
}

/** The same headers for a body the proxy sends whole, of `length` bytes. */
const resizedHeaders = (headers: IncomingHttpHeaders, length: number): IncomingHttpHeaders => {
  const copy = answerHeaders(headers)
  delete copy["transfer-encoding"]
  copy["content-length"] = String(length)
  return copy
}

const listenOn = (server: Server, port: number) =>
  new Promise<number>((resolve, reject) => {
    server.once("error", reject)
    server.listen(port, host, () => {
      server.off("error", reject)
      const address = server.address()
      resolve(typeof address === "object" && address !== null ? address.port : port)
    })
  })

const closeServer = (server: Server) => new Promise<void>((resolve) => server.close(() => resolve()))

interface Listener {
  readonly url: string
  readonly goDown: () => Promise<void>
  readonly comeBack: () => Promise<void>
  readonly close: () => Promise<void>
}

/** One origin of the proxy: a server that can go down and come back on its port. */
const listen = async (handle: (req: IncomingMessage, res: ServerResponse) => void): Promise<Listener> => {
  const sockets = new Set<Socket>()
  /** Requests being handled, per connection: a connection is dropped only between requests. */
  const busy = new Map<Socket, number>()
  let down = false

  const dropIfIdle = (socket: Socket) => {
    if (down && (busy.get(socket) ?? 0) === 0) socket.destroy()
  }

  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    const socket = req.socket
    if (down) {
      // A request on a connection kept from before the outage: it goes nowhere.
      socket.destroy()
      return
    }
    busy.set(socket, (busy.get(socket) ?? 0) + 1)
    res.on("close", () => {
      busy.set(socket, (busy.get(socket) ?? 1) - 1)
      dropIfIdle(socket)
    })
    handle(req, res)
  }

  const makeServer = () => {
    const server = createServer(onRequest)
    server.keepAliveTimeout = 5000
    server.on("connection", (socket: Socket) => {
      if (down) {
        socket.destroy()
        return
      }
      sockets.add(socket)
      socket.on("close", () => {
        sockets.delete(socket)
        busy.delete(socket)
      })
    })
    return server
  }

  let server = makeServer()
  const port = await listenOn(server, 0)
  return {
    url: `http://${host}:${port}`,
    goDown: async () => {
      if (down) return
      down = true
      // The listening socket closes at once; connections still answering close after their answer.
      void closeServer(server)
      for (const socket of sockets) dropIfIdle(socket)
    },
    comeBack: async () => {
      if (!down) return
      down = false
      server = makeServer()
      await listenOn(server, port)
    },
    close: async () => {
      down = true
      const closed = server.listening ? closeServer(server) : Promise.resolve()
      for (const socket of sockets) socket.destroy()
      await closed
    }
  }
}

export const startFaultProxy = async (upstream: Upstream, rule: Rule = forwardAll): Promise<FaultProxy> => {
  const agent = new Agent({ keepAlive: true })
  const log: Array<LoggedRequest> = []
  const counts = new Map<string, number>()
  /** The proxy's own file origin, once it listens: where the API's content redirects are sent instead. */
  let filesUrl: string | undefined

  const handler = (origin: Origin, target: URL) => (req: IncomingMessage, res: ServerResponse) => {
    const path = new URL(req.url ?? "/", target).pathname
    const method = req.method ?? "GET"
    const route = routeOf(origin, method, path)
    const nthOfRoute = (counts.get(route) ?? 0) + 1
    counts.set(route, nthOfRoute)
    const seen: ProxyRequest = { origin, method, path, route, nthOfRoute, headers: req.headers }
    const at = now()
    const decision = proxy.rule(seen)
    const entry: LoggedRequest = { ...seen, at, decision: decision._tag, answeredBy: decision._tag === "Answer" ? "proxy" : "upstream" }
    log.push(entry)

    if (decision._tag === "Answer") {
      // The whole body is read before the answer: an answer sent mid-upload breaks the client's write.
      req.resume()
      req.on("end", () => {
        entry.status = decision.status
        res.writeHead(decision.status, {
          "content-type": decision.contentType,
          "content-length": String(Buffer.byteLength(decision.body)),
          ...decision.headers
        })
        res.end(decision.body)
      })
      return
    }

    let answered = false
    const outgoing = request({
      hostname: target.hostname,
      port: target.port,
      method,
      path: req.url,
      headers: { ...req.headers, host: target.host },
      agent
    })
    outgoing.on("error", () => res.destroy())
    // The client went away first (a killed run): the simulator's request goes too.
    res.on("close", () => {
      if (!answered) outgoing.destroy()
    })
    req.pipe(outgoing)
    outgoing.on("response", (answer) => {
      const status = answer.statusCode ?? 502
      const headers = answerHeaders(answer.headers)
      const location = headers.location
      if (origin === "api" && filesUrl !== undefined && upstream.files !== undefined && location?.startsWith(upstream.files)) {
        headers.location = filesUrl + location.slice(upstream.files.length)
      }
      answer.on("error", () => res.destroy())
      if (decision._tag === "Forward") {
        answer.on("end", () => void (answered = true))
        entry.status = status
        res.writeHead(status, headers)
        answer.pipe(res)
        return
      }
      const chunks: Array<Buffer> = []
      answer.on("data", (chunk: Buffer) => chunks.push(chunk))
      answer.on("end", () => {
        answered = true
        const body = Buffer.concat(chunks)
        switch (decision._tag) {
          case "Drop":
            req.socket.destroy()
            return
          case "Replace": {
            const text = Buffer.from(decision.body(body.toString("utf8"), { status, headers: answer.headers }))
            const replaced = resizedHeaders(headers, text.length)
            if (decision.contentType !== undefined) replaced["content-type"] = decision.contentType
            entry.status = decision.status ?? status
            res.writeHead(entry.status, replaced)
            res.end(text)
            return
          }
          case "CutBody": {
            const keep = Math.max(0, Math.min(body.length - 1, Math.floor(decision.keep(body.length))))
            entry.status = status
            res.writeHead(status, resizedHeaders(headers, body.length))
            res.write(body.subarray(0, keep), () => req.socket.destroy())
            return
          }
        }
      })
    })
  }

  const api = await listen(handler("api", new URL(upstream.api)))
  const files = upstream.files === undefined ? undefined : await listen(handler("files", new URL(upstream.files)))
  filesUrl = files?.url

  const proxy: FaultProxy = {
    baseUrl: api.url,
    fileBaseUrl: files?.url,
    rule,
    log,
    goDown: api.goDown,
    comeBack: api.comeBack,
    close: async () => {
      await Promise.all([api.close(), files?.close()])
      agent.destroy()
    }
  }
  return proxy
}
