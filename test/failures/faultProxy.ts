/**
 * A real HTTP proxy on loopback in front of a simulator, for faults the simulator cannot inject
 * on one route only, or cannot turn off between two runs of one campaign (its options are fixed
 * when it starts, and its videos die with it). The client under test talks HTTP to it exactly as
 * it would to the provider: nothing of the client is mocked.
 *
 * Two origins, as the simulator has: the API (whose content redirects are rewritten to lead to
 * the proxy's file origin) and the file host. `rule` decides per request, and may be changed at
 * any time (between runs, or during one).
 */
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from "node:http"
import type { AddressInfo } from "node:net"

export interface ProxiedRequest {
  readonly origin: "api" | "files"
  readonly method: string
  /** The path without the query. */
  readonly path: string
}

export type Fault =
  /** Answered by the proxy; the request never reaches the simulator. */
  | { readonly _tag: "Answer"; readonly status: number; readonly body: string; readonly contentType?: string }
  /** Forwarded (it has its effect at the simulator), and the answer replaced by this one. */
  | { readonly _tag: "Replace"; readonly status?: number; readonly body: (upstream: string) => string; readonly contentType?: string }
  /** Forwarded; the answer's headers promise the whole body, the connection closes after `keep` bytes. */
  | { readonly _tag: "CutBody"; readonly keep: (length: number) => number }
  /** Forwarded; the connection is destroyed before any answer (the simulator's `resetRate`, on any route). */
  | { readonly _tag: "Drop" }

export type Rule = (request: ProxiedRequest) => Fault | undefined

export interface FaultProxy {
  readonly baseUrl: string
  rule: Rule
  /** Every request seen, with the fault applied to it. */
  readonly log: Array<ProxiedRequest & { readonly fault: Fault["_tag"] | undefined }>
  readonly close: () => Promise<void>
}

const listen = (handler: (req: IncomingMessage, res: ServerResponse) => void) =>
  new Promise<{ server: Server; url: string }>((resolve) => {
    const server = createServer(handler)
    server.listen(0, "127.0.0.1", () => resolve({ server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` }))
  })

/** The status route of one video: `GET /v1/videos/{video_id}` (not captions, not content). */
export const isStatusRequest = (r: ProxiedRequest) => r.origin === "api" && r.method === "GET" && /^\/v1\/videos\/video_[^/]+$/.test(r.path)
export const isSubmitRequest = (r: ProxiedRequest) => r.origin === "api" && r.method === "POST" && r.path === "/v1/videos"
export const isListRequest = (r: ProxiedRequest) => r.origin === "api" && r.method === "GET" && r.path === "/v1/videos"
export const isFileRequest = (r: ProxiedRequest) => r.origin === "files" && r.method === "GET"

export const htmlPage = "<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body><h1>Bad Gateway</h1></body></html>\n"

export const startFaultProxy = async (sim: { readonly baseUrl: string; readonly fileBaseUrl: string }): Promise<FaultProxy> => {
  let filesUrl = ""
  const handler = (origin: "api" | "files", target: URL) => (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? "/", target)
    const seen: ProxiedRequest = { origin, method: req.method ?? "GET", path: url.pathname }
    const fault = proxy.rule(seen)
    proxy.log.push({ ...seen, fault: fault?._tag })
    if (fault?._tag === "Answer") {
      // Read the whole request first, as a well-behaved gateway does.
      req.resume()
      req.on("end", () => {
        res.writeHead(fault.status, {
          "content-type": fault.contentType ?? "text/html; charset=utf-8",
          "content-length": Buffer.byteLength(fault.body)
        })
        res.end(fault.body)
      })
      return
    }
    const upstream = request({
      hostname: target.hostname,
      port: target.port,
      method: req.method,
      path: req.url,
      headers: { ...req.headers, host: target.host },
      agent: false
    })
    upstream.on("error", () => res.destroy())
    res.on("close", () => upstream.destroy())
    req.pipe(upstream)
    upstream.on("response", (answer) => {
      const headers = { ...answer.headers }
      delete headers.connection
      delete headers["keep-alive"]
      if (origin === "api" && typeof headers.location === "string" && headers.location.startsWith(sim.fileBaseUrl)) {
        headers.location = filesUrl + headers.location.slice(sim.fileBaseUrl.length)
      }
      if (fault === undefined) {
        res.writeHead(answer.statusCode ?? 502, headers)
        answer.pipe(res)
        return
      }
      const chunks: Array<Buffer> = []
      answer.on("data", (chunk: Buffer) => chunks.push(chunk))
      answer.on("error", () => res.destroy())
      answer.on("end", () => {
        const body = Buffer.concat(chunks)
        switch (fault._tag) {
          case "Drop":
            req.socket.destroy()
            return
          case "Replace": {
            const text = fault.body(body.toString("utf8"))
            res.writeHead(fault.status ?? answer.statusCode ?? 200, {
              "content-type": fault.contentType ?? "text/html; charset=utf-8",
              "content-length": Buffer.byteLength(text)
            })
            res.end(text)
            return
          }
          case "CutBody": {
            const keep = Math.max(0, Math.min(body.length - 1, Math.floor(fault.keep(body.length))))
            delete headers["transfer-encoding"]
            headers["content-length"] = String(body.length)
            res.writeHead(answer.statusCode ?? 200, headers)
            res.write(body.subarray(0, keep), () => req.socket.destroy())
            return
          }
        }
      })
    })
  }
  const api = await listen((req, res) => handler("api", new URL(sim.baseUrl))(req, res))
  const files = await listen((req, res) => handler("files", new URL(sim.fileBaseUrl))(req, res))
  filesUrl = files.url
  const close = () =>
    Promise.all(
      [api.server, files.server].map(
        (server) =>
          new Promise<void>((resolve) => {
            server.closeAllConnections()
            server.close(() => resolve())
          })
      )
    ).then(() => undefined)
  const proxy: FaultProxy = { baseUrl: api.url, rule: () => undefined, log: [], close }
  return proxy
}
