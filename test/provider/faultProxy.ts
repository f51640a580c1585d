/**
 * A small HTTP proxy on loopback, in front of the simulator, that injects the faults a real
 * provider (or the gateway in front of it) shows and the simulator does not: a 429 on a chosen
 * request, a 411, a status rewritten, the whole API unreachable for a while. It is a real server
 * (node:http) forwarding to the real simulator: the client under test talks HTTP to it as it
 * would to the API, and nothing of the client is mocked.
 *
 * Every request is logged (method, route, arrival time, what was answered), so a test can see what
 * reached "the provider" and when.
 */
import { type IncomingMessage, type Server, type ServerResponse, Agent, createServer, request as httpRequest } from "node:http"
import type { Socket } from "node:net"

/** "POST /v1/videos", "GET /v1/videos/{video_id}", "GET /v1/videos/{video_id}/content", … (as the simulator's stats key them). */
export const routeOf = (method: string, path: string): string => {
  const template = path
    .replace(/^\/v1\/videos\/(?!captions(?:\/|$))[^/]+\/content$/, "/v1/videos/{video_id}/content")
    .replace(/^\/v1\/videos\/(?!captions(?:\/|$))[^/]+$/, "/v1/videos/{video_id}")
  return `${method} ${template}`
}

export interface ProxyRequest {
  readonly method: string
  /** The path without its query. */
  readonly path: string
  readonly route: string
  readonly headers: IncomingMessage["headers"]
  /** 1 for the first request of this route through the proxy, 2 for the second, … */
  readonly nthOfRoute: number
}

export type Decision =
  /** Passed to the simulator as it came; `rewriteJson` may change a 2xx JSON answer on the way back. */
  | { readonly _tag: "Forward"; readonly rewriteJson?: (body: Record<string, unknown>) => Record<string, unknown> }
  /** Answered by the proxy itself (after reading the whole request body, as a well-behaved server does). */
  | { readonly _tag: "Answer"; readonly status: number; readonly body: unknown; readonly headers?: Readonly<Record<string, string>> }

export const forward: Decision = { _tag: "Forward" }

export interface LoggedRequest extends ProxyRequest {
  /** Arrival at the proxy, epoch milliseconds with sub-millisecond precision. */
  readonly at: number
  /** Answered by the proxy (`Answer`) or passed on. */
  answeredBy: "proxy" | "simulator"
  /** The status sent back (undefined until answered, or when the connection broke). */
  status?: number
}

export interface FaultProxy {
  readonly baseUrl: string
  readonly log: ReadonlyArray<LoggedRequest>
  /**
   * The API becomes unreachable: the listening socket is closed (new connections are refused),
   * idle kept-alive connections are dropped, and a connection still carrying a request is dropped
   * once its answer is sent (so no request the simulator acted on loses its answer).
   */
  readonly goDown: () => Promise<void>
  /** Listens again, on the same port. */
  readonly comeBack: () => Promise<void>
  readonly close: () => Promise<void>
}

const host = "127.0.0.1"

const now = () => performance.timeOrigin + performance.now()

const listenOn = (server: Server, port: number) =>
  new Promise<number>((resolve, reject) => {
    server.once("error", reject)
    server.listen(port, host, () => {
      server.off("error", reject)
      const address = server.address()
      resolve(typeof address === "object" && address !== null ? address.port : port)
    })
  })

export const startFaultProxy = async (target: string, decide: (request: ProxyRequest) => Decision = () => forward): Promise<FaultProxy> => {
  const upstream = new URL(target)
  const agent = new Agent({ keepAlive: true })
  const log: Array<LoggedRequest> = []
  const counts = new Map<string, number>()
  /** Requests being handled, per connection: a connection is dropped only between requests. */
  const busy = new Map<Socket, number>()
  let down = false

  const dropIfIdle = (socket: Socket) => {
    if (down && (busy.get(socket) ?? 0) === 0) socket.destroy()
  }

  const handle = (req: IncomingMessage, res: ServerResponse) => {
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
    const url = new URL(req.url ?? "/", "http://proxy")
    const method = req.method ?? "GET"
    const route = routeOf(method, url.pathname)
    const nthOfRoute = (counts.get(route) ?? 0) + 1
    counts.set(route, nthOfRoute)
    const info: ProxyRequest = { method, path: url.pathname, route, headers: req.headers, nthOfRoute }
    const entry: LoggedRequest = { ...info, at: now(), answeredBy: "simulator" }
    log.push(entry)
    const decision = decide(info)

    if (decision._tag === "Answer") {
      entry.answeredBy = "proxy"
      // The whole body is read before the answer: an answer sent mid-upload breaks the client's write.
      req.resume()
      req.on("end", () => {
        const body = Buffer.from(JSON.stringify(decision.body))
        entry.status = decision.status
        res.writeHead(decision.status, { "content-type": "application/json", "content-length": String(body.length), ...decision.headers })
        res.end(body)
      })
      return
    }

    const outgoing = httpRequest(
      { host: upstream.hostname, port: upstream.port, method, path: req.url, headers: req.headers, agent },
      (answer) => {
        const status = answer.statusCode ?? 502
        const rewrite = decision.rewriteJson
        const isJson = String(answer.headers["content-type"] ?? "").includes("json")
        if (rewrite === undefined || status < 200 || status >= 300 || !isJson) {
          entry.status = status
          res.writeHead(status, answer.headers)
          answer.pipe(res)
          return
        }
        const chunks: Array<Buffer> = []
        answer.on("data", (chunk: Buffer) => chunks.push(chunk))
        answer.on("end", () => {
          const body = Buffer.from(JSON.stringify(rewrite(JSON.parse(Buffer.concat(chunks).toString("utf8")) as Record<string, unknown>)))
          const headers = { ...answer.headers, "content-length": String(body.length) }
          delete headers["transfer-encoding"]
          entry.status = status
          res.writeHead(status, headers)
          res.end(body)
        })
      }
    )
    outgoing.on("error", () => socket.destroy())
    req.pipe(outgoing)
  }

  const makeServer = () => {
    const server = createServer(handle)
    server.keepAliveTimeout = 5000
    server.on("connection", (socket) => {
      if (down) socket.destroy()
    })
    return server
  }

  let server = makeServer()
  const sockets = new Set<Socket>()
  const track = (s: Server) =>
    s.on("connection", (socket: Socket) => {
      sockets.add(socket)
      socket.on("close", () => {
        sockets.delete(socket)
        busy.delete(socket)
      })
    })
  track(server)
  const port = await listenOn(server, 0)

  const closeServer = (s: Server) => new Promise<void>((resolve) => s.close(() => resolve()))

  return {
    baseUrl: `http://${host}:${port}`,
    log,
    goDown: async () => {
      down = true
      // The listening socket closes at once; connections still answering close after their answer.
      void closeServer(server)
      for (const socket of sockets) dropIfIdle(socket)
      await Promise.resolve()
    },
    comeBack: async () => {
      down = false
      server = makeServer()
      track(server)
      await listenOn(server, port)
    },
    close: async () => {
      down = true
      const closed = server.listening ? closeServer(server) : Promise.resolve()
      for (const socket of sockets) socket.destroy()
      await closed
      agent.destroy()
    }
  }
}

/** The documented body of a quota refusal. */
export const rateLimitBody = { error: { type: "rate_limit_exceeded", message: "Rate limit exceeded." } }
