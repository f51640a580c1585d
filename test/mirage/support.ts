/** Helpers of the Mirage client tests: paths, temp folders, a recording HTTP server, client layers. */
import { type Duration, Effect, Redacted, type Scope } from "effect"
import { mkdtempSync, rmSync } from "node:fs"
import * as Http from "node:http"
import type { AddressInfo } from "node:net"
import { tmpdir } from "node:os"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"
import * as MirageClient from "../../src/mirage/MirageClient.ts"
import { makeMirageConfig } from "../../src/mirage/mirageConfig.ts"

export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), "..", "..")
export const assetsDir = join(repoRoot, "examples", "assets")
export const referenceDir = join(repoRoot, "..", "shared", "reference")

export const asset = (path: string): string => join(assetsDir, path)
export const alicePng = asset("presenters/alice.png")
export const bobJpg = asset("presenters/bob.jpg")
export const helloWav = asset("voice/hello.wav")
export const welcomeMp3 = asset("voice/welcome.mp3")

/** A recognisable key: tests assert it never shows up in errors. */
export const secretKey = "mira_SECRET_leak_canary_9f3b27"

/** A temporary folder, removed with the scope. */
export const tempDir: Effect.Effect<string, never, Scope.Scope> = Effect.acquireRelease(
  Effect.sync(() => mkdtempSync(join(tmpdir(), "clapper-mirage-"))),
  (dir) => Effect.sync(() => rmSync(dir, { recursive: true, force: true }))
)

/** The client on Node's HTTP client, for `baseUrl` with `key`. */
export const clientLayer = (baseUrl: string, options: { key?: string; requestTimeout?: Duration.DurationInput } = {}) =>
  MirageClient.layer(
    makeMirageConfig({
      baseUrl,
      apiKey: Redacted.make(options.key ?? secretKey),
      requestTimeout: options.requestTimeout ?? "10 seconds"
    })
  )

/** Runs `effect` with a client for `baseUrl`. */
export const withClient = <A, E, R>(
  baseUrl: string,
  effect: Effect.Effect<A, E, R | MirageClient.MirageClient>,
  options: { key?: string; requestTimeout?: Duration.DurationInput } = {}
): Effect.Effect<A, E, Exclude<R, MirageClient.MirageClient>> => Effect.provide(effect, clientLayer(baseUrl, options))

// -----------------------------------------------------------------------------------------------
// A recording HTTP server (a real server on loopback, to see exactly what the client sends)
// -----------------------------------------------------------------------------------------------

export interface Recorded {
  readonly method: string
  readonly url: string
  readonly headers: Http.IncomingHttpHeaders
  readonly body: Buffer
}

export interface Reply {
  readonly status: number
  readonly headers?: Record<string, string>
  readonly body?: string | Buffer
}

export interface Recorder {
  readonly baseUrl: string
  readonly requests: Array<Recorded>
}

/** A loopback server that records every request and answers with `reply`. */
export const recorder = (reply: (request: Recorded) => Reply): Effect.Effect<Recorder, never, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.async<{ server: Http.Server; recorder: Recorder }>((resume) => {
      const requests: Array<Recorded> = []
      const server = Http.createServer((req, res) => {
        const chunks: Array<Buffer> = []
        req.on("data", (c: Buffer) => chunks.push(c))
        req.on("end", () => {
          const recorded: Recorded = { method: req.method ?? "", url: req.url ?? "", headers: req.headers, body: Buffer.concat(chunks) }
          requests.push(recorded)
          const r = reply(recorded)
          res.writeHead(r.status, r.headers ?? {})
          res.end(r.body ?? "")
        })
      })
      server.listen(0, "127.0.0.1", () => {
        const port = (server.address() as AddressInfo).port
        resume(Effect.succeed({ server, recorder: { baseUrl: `http://127.0.0.1:${port}`, requests } }))
      })
    }),
    ({ server }) =>
      Effect.async<void>((resume) => {
        server.closeAllConnections()
        server.close(() => resume(Effect.void))
      })
  ).pipe(Effect.map(({ recorder }) => recorder))

export interface Part {
  readonly name: string
  readonly filename: string | undefined
  readonly contentType: string | undefined
  readonly data: Buffer
}

/** The parts of a `multipart/form-data` body (enough of RFC 7578 for these tests). */
export const parseMultipart = (contentType: string | undefined, body: Buffer): ReadonlyArray<Part> => {
  const boundary = /boundary=(?:"([^"]+)"|([^;]+))/i.exec(contentType ?? "")
  const b = boundary?.[1] ?? boundary?.[2]
  if (b === undefined) return []
  const delimiter = Buffer.from(`--${b}`)
  const parts: Array<Part> = []
  let at = body.indexOf(delimiter)
  while (at !== -1) {
    const start = at + delimiter.length
    if (body.subarray(start, start + 2).toString() === "--") break
    const next = body.indexOf(delimiter, start)
    if (next === -1) break
    const raw = body.subarray(start + 2, next - 2) // skip CRLF after the delimiter and before the next
    const split = raw.indexOf("\r\n\r\n")
    const head = raw.subarray(0, split).toString("utf8")
    const data = raw.subarray(split + 4)
    const disposition = /content-disposition:([^\r\n]*)/i.exec(head)?.[1] ?? ""
    parts.push({
      name: /\bname="([^"]*)"/.exec(disposition)?.[1] ?? "",
      filename: /\bfilename="([^"]*)"/.exec(disposition)?.[1],
      contentType: /content-type:\s*([^\r\n]*)/i.exec(head)?.[1]?.trim(),
      data
    })
    at = next
  }
  return parts
}

/** A loopback port with nothing listening (bound, then released). */
export const closedPort: Effect.Effect<number> = Effect.async<number>((resume) => {
  const server = Http.createServer()
  server.listen(0, "127.0.0.1", () => {
    const port = (server.address() as AddressInfo).port
    server.close(() => resume(Effect.succeed(port)))
  })
})

/** A loopback server whose handler does anything (stall, cut short, destroy the socket). */
export const rawServer = (
  handler: (req: Http.IncomingMessage, res: Http.ServerResponse) => void
): Effect.Effect<string, never, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.async<Http.Server>((resume) => {
      const server = Http.createServer(handler)
      server.listen(0, "127.0.0.1", () => resume(Effect.succeed(server)))
    }),
    (server) =>
      Effect.async<void>((resume) => {
        server.closeAllConnections()
        server.close(() => resume(Effect.void))
      })
  ).pipe(Effect.map((server) => `http://127.0.0.1:${(server.address() as AddressInfo).port}`))
