import { Effect, Either } from "effect"
import fc from "fast-check"
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterEach, describe, expect, it } from "vitest"
import { readLockFile, serializeLock, type LockEntry, type LockFile } from "../../src/state/lockFile.ts"

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
      v !== null && typeof v === "object" && !Array.isArray(v)
        ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
        : v,
    2
  )}\n`

describe("the lock file's text", () => {
  it("is exactly the sorted-keys JSON of the whole lock, however its entries are assembled", () => {
    fc.assert(
      // Keys are job ids: output paths, never integer-like (which JS objects would order first).
      fc.property(
        fc.dictionary(
          fc.string().map((s) => `out/${s}.mp4`),
          entry,
          { maxKeys: 6 }
        ),
        fc.string(),
        (outputs, pipeline) => {
          const lock: LockFile = { version: 1, pipeline, outputs }
          expect(serializeLock(lock)).toBe(reference(lock))
        }
      ),
      { numRuns: 200 }
    )
  })
})

const dirs: Array<string> = []
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
})
const lockPath = () => {
  const dir = mkdtempSync(join(tmpdir(), "clapper-lock-"))
  dirs.push(dir)
  return join(dir, "campaign.lock.json")
}

const sample: LockEntry = {
  fingerprint: "sha256:0f",
  model: "mirage-video-1-latest",
  inputs: { image: { path: "assets/a.png", sha256: "aa" } },
  parameters: { speech: { voice: "v", text: "hello", model: "mirage-audio-1" } },
  videoId: "video_1",
  output: { sha256: "bb", size: 12 },
  durationSeconds: 3.2,
  costUsd: 0.9
}

const read = (path: string, pipeline = "campaign") => Effect.runPromise(Effect.either(readLockFile(path, pipeline)))

const refusal = async (path: string) => {
  const result = await read(path)
  if (Either.isRight(result) || result.left._tag !== "StateCorrupt") throw new Error("the lock file was not refused as corrupt")
  return result.left
}

describe("reading the lock file", () => {
  it("reads back what was written, and writing it again changes no byte", async () => {
    const path = lockPath()
    await fc.assert(
      fc.asyncProperty(
        fc.dictionary(
          fc.string().map((s) => `out/${s}.mp4`),
          entry,
          { maxKeys: 4 }
        ),
        async (outputs) => {
          const text = serializeLock({ version: 1, pipeline: "campaign", outputs })
          writeFileSync(path, text)
          const result = await read(path)
          expect(Either.isRight(result) && serializeLock(result.right)).toBe(text)
        }
      ),
      { numRuns: 50 }
    )
  })

  it("a missing lock file is an empty one", async () => {
    const result = await read(lockPath())
    expect(Either.isRight(result) && result.right).toEqual({ version: 1, pipeline: "campaign", outputs: {} })
  })

  it.each([
    [
      "a missing field",
      (e: Record<string, unknown>) => ({ ...e, videoId: undefined }),
      /"out\/b\.mp4" is not valid \(`videoId` is missing\)/
    ],
    [
      "a field of the wrong type",
      (e: Record<string, unknown>) => ({ ...e, output: { sha256: "bb", size: "12" } }),
      /"out\/b\.mp4" is not valid \(`output\.size`: expected number, actual "12"\)/
    ],
    [
      "a damaged input",
      (e: Record<string, unknown>) => ({ ...e, inputs: { image: { path: "a.png" } } }),
      /"out\/b\.mp4" is not valid \(`inputs\.image\.sha256` is missing\)/
    ],
    ["an entry that is not an object", () => 7, /"out\/b\.mp4" is not valid \(expected LockEntry, actual 7\)/]
  ])("%s: refused, naming the output, the field and the entry's line", async (_, damage, message) => {
    const path = lockPath()
    const text = serializeLock({ version: 1, pipeline: "campaign", outputs: { "out/a.mp4": sample, "out/b.mp4": sample } })
    const parsed = JSON.parse(text) as { outputs: Record<string, Record<string, unknown>> }
    parsed.outputs["out/b.mp4"] = damage(parsed.outputs["out/b.mp4"]!) as Record<string, unknown>
    const damaged = JSON.stringify(parsed, null, 2)
    writeFileSync(path, damaged)
    const error = await refusal(path)
    expect(error.message).toMatch(message)
    expect(error.line).toBe(damaged.split("\n").findIndex((line) => line.includes(`"out/b.mp4":`)) + 1)
  })

  it("one of another version or pipeline is refused for that, whatever it holds", async () => {
    const path = lockPath()
    writeFileSync(path, JSON.stringify({ version: 2, pipeline: "campaign", outputs: { "out/a.mp4": { digest: "x" } } }))
    expect((await refusal(path)).reason).toBe("lock file version 2 is not one this Clapper reads (1)")
    writeFileSync(path, JSON.stringify({ version: 1, pipeline: "other", outputs: {} }))
    expect((await refusal(path)).reason).toBe(`the lock file is for pipeline "other", not "campaign"`)
  })

  it("one that is not JSON, or has no outputs, is refused", async () => {
    const path = lockPath()
    writeFileSync(path, "{oops")
    expect((await refusal(path)).reason).toMatch(/^the lock file is not valid JSON/)
    writeFileSync(path, JSON.stringify({ version: 1, pipeline: "campaign" }))
    expect((await refusal(path)).reason).toBe("the lock file has no outputs")
  })

  it("one that cannot be read is a StateIoError, never taken for a missing one", async () => {
    const path = lockPath()
    mkdirSync(path)
    const result = await read(path)
    expect(Either.isLeft(result) && result.left._tag).toBe("StateIoError")
  })
})
