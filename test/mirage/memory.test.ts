/**
 * A 300 MB download through the simulator's file host keeps memory flat: the body streams to disk
 * chunk by chunk. RSS is sampled every 10 ms during the transfer (simulator and client share this
 * process, so the bound covers both ends).
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { closeSync, ftruncateSync, openSync, statSync } from "node:fs"
import { join } from "node:path"
import { MirageClient } from "../../src/mirage/MirageClient.ts"
import * as Simulator from "../../src/sim/Simulator.ts"
import { alicePng, helloWav, secretKey, tempDir, withClient } from "./support.ts"
import { roomySim } from "../support/testQuotas.ts"

const MiB = 1024 * 1024
const size = 300 * MiB
/**
 * A first, ranged download of the file's last 100 MB warms the process up before measuring. Without
 * it, a cold process shows ~65 MB of growth on its first large transfer whatever the size: that is
 * V8 letting short-lived socket buffers pile up to its 64 MB external-memory soft limit before its
 * first major GC (garbage, not data held). After it, growth during the 300 MB measures what the
 * download itself keeps.
 */
const warmUp = 100 * MiB

describe("memory", () => {
  it.scopedLive(
    "a 300 MB download keeps RSS growth under 64 MB",
    () =>
      Effect.gen(function* () {
        const dir = yield* tempDir
        const content = join(dir, "big.mp4")
        const fd = openSync(content, "w")
        ftruncateSync(fd, size) // sparse: zeros, no disk use
        closeSync(fd)
        const sim = yield* Effect.orDie(
          Simulator.make({ ...roomySim, renderFactor: 0, ffmpeg: false, apiKey: secretKey, contentFile: content })
        )
        const out = join(dir, "out.mp4")

        const { result, growth } = yield* withClient(
          sim.baseUrl,
          Effect.gen(function* () {
            const c = yield* MirageClient
            const video = yield* c.createVideo({ image: alicePng, audio: helloWav })
            // Warm up on a ranged download of the last `warmUp` bytes, then measure a whole download.
            const partial = openSync(out, "w")
            ftruncateSync(partial, size - warmUp)
            closeSync(partial)
            const warm = yield* c.downloadContent(video.id, { path: out, resumeFrom: size - warmUp })
            expect(warm).toMatchObject({ bytesWritten: warmUp, resumed: true })
            const baseline = process.memoryUsage().rss
            let peak = baseline
            const sampler = setInterval(() => {
              peak = Math.max(peak, process.memoryUsage().rss)
            }, 10)
            const result = yield* c
              .downloadContent(video.id, { path: out })
              .pipe(Effect.ensuring(Effect.sync(() => clearInterval(sampler))))
            peak = Math.max(peak, process.memoryUsage().rss)
            if (process.env["CLAPPER_TEST_VERBOSE"]) console.log(`rss growth ${((peak - baseline) / MiB).toFixed(1)} MiB`)
            return { result, growth: peak - baseline }
          })
        )
        expect(result).toMatchObject({ bytesWritten: size, totalBytes: size, resumed: false })
        expect(statSync(out).size).toBe(size)
        expect(growth).toBeLessThan(64 * MiB)
      }),
    60_000
  )
})
