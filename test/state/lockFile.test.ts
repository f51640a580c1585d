import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { serializeLock, type LockEntry, type LockFile } from "../../src/state/lockFile.ts"

const hex = fc.stringMatching(/^[0-9a-f]{8}$/)
const entry: fc.Arbitrary<LockEntry> = fc.record({
  fingerprint: hex,
  model: fc.constant("mirage-video-1-latest"),
  inputs: fc.record({ image: fc.record({ path: fc.string(), sha256: hex }), audio: fc.record({ path: fc.string(), sha256: hex }) }),
  parameters: fc.dictionary(fc.string(), fc.jsonValue()),
  videoId: fc.string(),
  output: fc.record({ sha256: hex, size: fc.nat() }),
  durationSeconds: fc.double({ min: 0, max: 600, noNaN: true }),
  costUsd: fc.double({ min: 0, max: 100, noNaN: true })
})

/** The plain definition: the whole lock through JSON.stringify with every object's keys sorted. */
const reference = (lock: LockFile) =>
  `${JSON.stringify(
    lock,
    (_, v: unknown) =>
      v !== null && typeof v === "object" && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : v,
    2
  )}\n`

describe("the lock file's text", () => {
  it("is exactly the sorted-keys JSON of the whole lock, however its entries are assembled", () => {
    fc.assert(
      // Keys are job ids: output paths, never integer-like (which JS objects would order first).
      fc.property(fc.dictionary(fc.string().map((s) => `out/${s}.mp4`), entry, { maxKeys: 6 }), fc.string(), (outputs, pipeline) => {
        const lock: LockFile = { version: 1, pipeline, outputs }
        expect(serializeLock(lock)).toBe(reference(lock))
      }),
      { numRuns: 200 }
    )
  })
})
