/**
 * Uploads keep memory flat: file parts are read from disk only as fast as the socket takes them,
 * even when the server is slow to read.
 *
 * - Backpressure, measured exactly: a body stream counting its pulls, sent to a server that stops
 *   reading for a second. Without `paceToSocket` the whole body is pulled (and queued in memory)
 *   during the stall; with it, no more than the kernel's socket buffers hold (loopback can
 *   autotune its receive buffer up to 32 MiB).
 * - A 300 MB upload through `createVideo`: RSS sampled every 10 ms during the transfer; server and
 *   client share this process, so the bound covers both ends. Its own file: vitest runs each file
 *   in its own process, so other tests' garbage does not count.
 */
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Stream } from "effect"
import { closeSync, ftruncateSync, openSync } from "node:fs"
import { join } from "node:path"
import { MirageClient } from "../../src/mirage/MirageClient.ts"
import { paceToSocket } from "../../src/mirage/multipart.ts"
import { helloWav, rawServer, tempDir, withClient } from "./support.ts"

const MiB = 1024 * 1024
const size = 300 * MiB
/** A first upload warms the process up (see memory.test.ts on V8's first major GC). */
const warmUp = 100 * MiB
/** How long the server stops reading after the first bytes of each upload. */
const stallMs = 500

const sparseFile = (path: string, bytes: number): string => {
  const fd = openSync(path, "w")
  ftruncateSync(fd, bytes) // sparse: zeros, no disk use
  closeSync(fd)
  return path
}

describe("memory", () => {
  it.scopedLive(
    "a body stream is pulled only as fast as the socket takes it",
    () =>
      Effect.gen(function* () {
        const piece = new Uint8Array(256 * 1024)
        const total = 256 * MiB
        let pulled = 0
        const body = Stream.repeatEffect(
          Effect.sync(() => {
            pulled += piece.byteLength
            return piece
          })
        ).pipe(Stream.take(total / piece.byteLength))
        const atResume = { pulled: 0, received: 0 }
        const url = yield* rawServer((req, res) => {
          let received = 0
          req.on("data", (chunk: Buffer) => {
            if (received === 0) {
              req.pause()
              setTimeout(() => {
                atResume.pulled = pulled
                atResume.received = received
                req.resume()
              }, 1000)
            }
            received += chunk.length
          })
          req.on("end", () => res.end("ok"))
        })
        const response = yield* HttpClient.execute(
          HttpClientRequest.post(url).pipe(HttpClientRequest.bodyStream(paceToSocket(body), { contentLength: total }))
        ).pipe(Effect.provide(NodeHttpClient.layer))
        expect(response.status).toBe(200)
        expect(pulled).toBe(total)
        if (process.env["CLAPPER_TEST_VERBOSE"]) {
          console.log(`ahead of the server after the stall: ${((atResume.pulled - atResume.received) / MiB).toFixed(1)} MiB`)
        }
        expect(atResume.received).toBeGreaterThan(0)
        expect(atResume.pulled - atResume.received).toBeLessThan(48 * MiB)
      }),
    60_000
  )

  it.scopedLive(
    "a 300 MB upload to a slow reader keeps RSS growth under 64 MB",
    () =>
      Effect.gen(function* () {
        const dir = yield* tempDir
        const received: Array<number> = []
        const url = yield* rawServer((req, res) => {
          let bytes = 0
          req.on("data", (chunk: Buffer) => {
            if (bytes === 0) {
              req.pause()
              setTimeout(() => req.resume(), stallMs)
            }
            bytes += chunk.length
          })
          req.on("end", () => {
            received.push(bytes)
            res.writeHead(200, { "content-type": "application/json" })
            res.end(JSON.stringify({ id: "video_big", status: "PROCESSING", created_at: 1 }))
          })
        })
        const small = sparseFile(join(dir, "warm.png"), warmUp)
        const big = sparseFile(join(dir, "big.png"), size)

        const growth = yield* withClient(
          url,
          Effect.gen(function* () {
            const c = yield* MirageClient
            yield* c.createVideo({ image: small, audio: helloWav })
            const baseline = process.memoryUsage().rss
            let peak = baseline
            const sampler = setInterval(() => {
              peak = Math.max(peak, process.memoryUsage().rss)
            }, 10)
            yield* c.createVideo({ image: big, audio: helloWav }).pipe(Effect.ensuring(Effect.sync(() => clearInterval(sampler))))
            peak = Math.max(peak, process.memoryUsage().rss)
            if (process.env["CLAPPER_TEST_VERBOSE"]) console.log(`rss growth ${((peak - baseline) / MiB).toFixed(1)} MiB`)
            return peak - baseline
          }),
          { requestTimeout: "60 seconds" }
        )
        expect(received).toHaveLength(2)
        expect(received[1]).toBeGreaterThan(size)
        expect(growth).toBeLessThan(64 * MiB)
      }),
    60_000
  )
})
