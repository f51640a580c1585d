/**
 * A transparent recording proxy on loopback, between Clapper and Prism: it forwards each request
 * unchanged (method, path, headers, body bytes and framing: a body sent with Content-Length goes
 * on with it, a chunked one goes on chunked) and each answer unchanged (no redirect is followed),
 * and records what Prism said about the request: its `sl-violations` header and any error answer
 * Prism made up itself (`application/problem+json` of type `https://stoplight.io/prism/errors#…`).
 * That ties every violation to the request that caused it, which Prism's log cannot do reliably.
 */
import { createServer, request, type IncomingHttpHeaders, type OutgoingHttpHeaders } from "node:http"

export interface Violation {
  readonly location: ReadonlyArray<string | number>
  readonly severity: string
  readonly code?: string | number
  readonly message: string
}

export interface Exchange {
  readonly method: string
  readonly path: string
  /** Request framing and the headers the description cares about (the key's presence, never its value). */
  readonly request: {
    readonly contentType: string | undefined
    readonly contentLength: string | undefined
    readonly transferEncoding: string | undefined
    readonly userAgent: string | undefined
    readonly hasApiKey: boolean
    readonly bodyBytes: number
  }
  readonly status: number
  readonly responseContentType: string | undefined
  /** Parsed `sl-violations` (request and response violations), empty when there was none. */
  readonly violations: ReadonlyArray<Violation>
  /** The `type` of an error answer Prism generated (security, no such path or method, …). */
  readonly prismError: string | undefined
  /** The answer's body as text, cut at 2 kB (what Clapper was told). */
  readonly responseText: string
}

export interface Recorder {
  readonly port: number
  readonly exchanges: Array<Exchange>
  readonly close: () => Promise<void>
}

const one = (value: string | ReadonlyArray<string> | undefined): string | undefined =>
  typeof value === "string" ? value : value?.join(", ")

const parseViolations = (value: string | undefined): ReadonlyArray<Violation> => {
  if (value === undefined) return []
  try {
    return JSON.parse(value) as ReadonlyArray<Violation>
  } catch {
    // Prism cuts a very long header to "Too many violations! …": still a violation.
    return [{ location: ["unknown"], severity: "Error", message: value }]
  }
}

const prismErrorType = (contentType: string | undefined, body: string): string | undefined => {
  if (contentType === undefined || !contentType.includes("application/problem+json")) return undefined
  try {
    const type = (JSON.parse(body) as { type?: unknown }).type
    return typeof type === "string" ? type : "problem+json without a type"
  } catch {
    return "unreadable problem+json"
  }
}

const hopByHop = new Set(["connection", "keep-alive", "proxy-connection", "upgrade", "te", "trailer"])

const forwardable = (headers: IncomingHttpHeaders): OutgoingHttpHeaders => {
  const out: OutgoingHttpHeaders = {}
  for (const [name, value] of Object.entries(headers)) if (value !== undefined && !hopByHop.has(name)) out[name] = value
  return out
}

export const startRecorder = (targetPort: number): Promise<Recorder> => {
  const exchanges: Array<Exchange> = []
  const server = createServer((incoming, reply) => {
    let bodyBytes = 0
    const upstream = request(
      {
        host: "127.0.0.1",
        port: targetPort,
        method: incoming.method,
        path: incoming.url,
        headers: forwardable(incoming.headers)
      },
      (answer) => {
        const chunks: Array<Buffer> = []
        answer.on("data", (chunk: Buffer) => chunks.push(chunk))
        answer.on("end", () => {
          const body = Buffer.concat(chunks)
          const responseContentType = one(answer.headers["content-type"])
          const text = body.subarray(0, 2048).toString("utf8")
          exchanges.push({
            method: incoming.method ?? "?",
            path: incoming.url ?? "?",
            request: {
              contentType: one(incoming.headers["content-type"]),
              contentLength: one(incoming.headers["content-length"]),
              transferEncoding: one(incoming.headers["transfer-encoding"]),
              userAgent: one(incoming.headers["user-agent"]),
              hasApiKey: typeof incoming.headers["x-api-key"] === "string" && incoming.headers["x-api-key"] !== "",
              bodyBytes
            },
            status: answer.statusCode ?? 0,
            responseContentType,
            violations: parseViolations(one(answer.headers["sl-violations"])),
            prismError: prismErrorType(responseContentType, body.toString("utf8")),
            responseText: text
          })
          reply.writeHead(answer.statusCode ?? 502, forwardable(answer.headers))
          reply.end(body)
        })
      }
    )
    upstream.on("error", (error) => {
      if (!reply.headersSent) reply.writeHead(502, { "content-type": "text/plain" })
      reply.end(`contract-test proxy: ${error.message}`)
    })
    incoming.on("data", (chunk: Buffer) => {
      bodyBytes += chunk.length
      upstream.write(chunk)
    })
    incoming.on("end", () => upstream.end())
  })
  return new Promise((resolve, reject) => {
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const address = server.address()
      const port = typeof address === "object" && address !== null ? address.port : 0
      resolve({
        port,
        exchanges,
        close: () =>
          new Promise<void>((done) => {
            server.closeAllConnections()
            server.close(() => done())
          })
      })
    })
  })
}

/** One line per request Prism objected to: `METHOD path → status: [location] message`, empty when none did. */
export const describeViolations = (exchanges: ReadonlyArray<Exchange>): ReadonlyArray<string> =>
  exchanges.flatMap((e) => [
    ...e.violations.map((v) => `${e.method} ${e.path} → ${e.status}: ${v.severity} [${v.location.join(".")}] ${v.message}`),
    ...(e.prismError === undefined ? [] : [`${e.method} ${e.path} → ${e.status}: Prism error ${e.prismError}: ${e.responseText}`])
  ])
