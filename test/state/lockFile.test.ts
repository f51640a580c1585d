import { Effect, Either } from "effect"
import fc from "fast-check"
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { dirname, join } from "node:path"
import { afterEach, describe, expect, it } from "vitest"
import { readLockFile, serializeLock, writeLockFile, type LockEntry, type LockFile } from "../../src/state/lockFile.ts"
import { makeLockLines } from "../../src/state/lockLines.ts"

const hex = fc.stringMatching(/^[0-9a-f]{8}$/)
// What JSON keeps of a value: fc.jsonValue() may give -0, which JSON writes as 0.
const jsonValue = fc.jsonValue().map((v): unknown => JSON.parse(JSON.stringify(v)))
const input = fc.record({ path: fc.string({ unit: "binary" }), sha256: hex })
const entry: fc.Arbitrary<LockEntry> = fc.record(
  {
    fingerprint: hex,
    model: fc.constant("mirage-video-1-latest"),
    inputs: fc.record({ image: input, audio: input }, { requiredKeys: ["image"] }),
    // Not "__proto__": Schema.Record's decoding drops that key (either version; stage parameters never have it).
    parameters: fc.dictionary(
      fc.string({ unit: "binary" }).filter((key) => key !== "__proto__"),
      jsonValue
    ),
    videoId: fc.string(),
    output: fc.record({ sha256: hex, size: fc.nat() }),
    durationSeconds: fc.double({ min: 0, max: 600, noNaN: true }),
    costUsd: fc.double({ min: 0, max: 100, noNaN: true })
  },
  { requiredKeys: ["fingerprint", "model", "inputs", "parameters", "videoId", "output", "durationSeconds", "costUsd"] }
)
// Job ids are output paths (never integer-like, which JS objects would order first), any characters.
const outputs = (maxKeys: number) =>
  fc.dictionary(
    fc.string({ unit: "binary" }).map((s) => `out/${s}.mp4`),
    entry,
    { maxKeys }
  )

const byCodeUnits = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0)
const sortKeys = (_: string, v: unknown) =>
  v !== null && typeof v === "object" && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => byCodeUnits(a, b))) : v

/** The plain definition of version 2: a header line, one compact sorted-keys line per output by id, the footer. */
const reference = (pipeline: string, outputs: Record<string, unknown>) => {
  const lines = Object.keys(outputs)
    .sort(byCodeUnits)
    .map((id) => `${JSON.stringify(id)}:${JSON.stringify(outputs[id], sortKeys)}`)
  const body = lines.length === 0 ? "" : `${lines.join(",\n")}\n`
  return `{"version":2,"pipeline":${JSON.stringify(pipeline)},"outputs":{\n${body}}}\n`
}

/** Version 1, as Clapper wrote it: the whole lock through JSON.stringify, keys sorted, two-space indent. */
const version1 = (pipeline: string, outputs: Record<string, unknown>) =>
  `${JSON.stringify({ outputs, pipeline, version: 1 }, sortKeys, 2)}\n`

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

describe("the lock file's text (version 2)", () => {
  it("is one line per output, sorted by id, each entry compact with its keys sorted", () => {
    expect(serializeLock({ version: 2, pipeline: "campaign", outputs: { "out/b.mp4": sample, "out/a.mp4": sample } })).toBe(
      [
        `{"version":2,"pipeline":"campaign","outputs":{`,
        `"out/a.mp4":{"costUsd":0.9,"durationSeconds":3.2,"fingerprint":"sha256:0f","inputs":{"image":{"path":"assets/a.png","sha256":"aa"}},"model":"mirage-video-1-latest","output":{"sha256":"bb","size":12},"parameters":{"speech":{"model":"mirage-audio-1","text":"hello","voice":"v"}},"videoId":"video_1"},`,
        `"out/b.mp4":{"costUsd":0.9,"durationSeconds":3.2,"fingerprint":"sha256:0f","inputs":{"image":{"path":"assets/a.png","sha256":"aa"}},"model":"mirage-video-1-latest","output":{"sha256":"bb","size":12},"parameters":{"speech":{"model":"mirage-audio-1","text":"hello","voice":"v"}},"videoId":"video_1"}`,
        `}}`,
        ``
      ].join("\n")
    )
  })

  it("an empty lock is its first line and its last", () => {
    expect(serializeLock({ version: 2, pipeline: "campaign", outputs: {} })).toBe(`{"version":2,"pipeline":"campaign","outputs":{\n}}\n`)
  })

  it("matches the plain definition and is one JSON document of the lock, whatever the entries", () => {
    fc.assert(
      fc.property(outputs(6), fc.string({ unit: "binary" }), (outputs, pipeline) => {
        const text = serializeLock({ version: 1, pipeline, outputs })
        expect(text).toBe(reference(pipeline, outputs))
        expect(text.split("\n")).toHaveLength(Object.keys(outputs).length + 3)
        expect(JSON.parse(text)).toEqual({ version: 2, pipeline, outputs })
      }),
      { numRuns: 200 }
    )
  })

  it("kept line by line by the recorder, through additions and replacements, is the same text", () => {
    const step = fc.oneof(
      fc.record({ set: fc.constantFrom("out/a.mp4", "out/b.mp4", "out/é.mp4", "out/a/b.mp4", "out/Z.mp4", "out/🎬.mp4"), entry }),
      fc.constant({ write: true as const })
    )
    fc.assert(
      fc.property(fc.array(step, { maxLength: 30 }), (steps) => {
        const lines = makeLockLines()
        const now: Record<string, LockEntry> = {}
        for (const s of steps) {
          if ("set" in s) {
            lines.set(s.set, s.entry)
            now[s.set] = s.entry
          } else expect(lines.bytes("campaign").toString()).toBe(reference("campaign", now))
        }
        expect(lines.bytes("campaign").toString()).toBe(reference("campaign", now))
      }),
      { numRuns: 300 }
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

const read = (path: string, pipeline = "campaign") => Effect.runPromise(Effect.either(readLockFile(path, pipeline)))
const readRight = async (path: string, pipeline = "campaign") => {
  const result = await read(path, pipeline)
  if (Either.isLeft(result)) throw new Error(`the lock file was refused: ${result.left.message}`)
  return result.right
}
const write = (path: string, lock: LockFile) => Effect.runPromise(writeLockFile(path, Buffer.from(serializeLock(lock))))

const refusal = async (path: string) => {
  const result = await read(path)
  if (Either.isRight(result) || result.left._tag !== "StateCorrupt") throw new Error("the lock file was not refused as corrupt")
  return result.left
}

describe("reading the lock file", () => {
  it("reads back what was written, and writing it again leaves the file untouched", async () => {
    const path = lockPath()
    await fc.assert(
      fc.asyncProperty(outputs(4), async (outputs) => {
        rmSync(path, { force: true })
        await write(path, { version: 2, pipeline: "campaign", outputs })
        const written = statSync(path).mtimeMs
        const text = readFileSync(path, "utf8")
        const back = await readRight(path)
        expect(back).toEqual({ version: 2, pipeline: "campaign", outputs })
        await write(path, back)
        expect(readFileSync(path, "utf8")).toBe(text)
        expect(statSync(path).mtimeMs).toBe(written)
      }),
      { numRuns: 50 }
    )
  })

  it("a missing lock file is an empty one", async () => {
    expect(await readRight(lockPath())).toEqual({ version: 2, pipeline: "campaign", outputs: {} })
  })

  it("reads a version 1 lock as it is, and writes it as version 2", async () => {
    const path = lockPath()
    const lock = { "out/b.mp4": sample, "out/a.mp4": { ...sample, videoId: "video_2" } }
    writeFileSync(path, version1("campaign", lock))
    const read = await readRight(path)
    expect(read).toEqual({ version: 1, pipeline: "campaign", outputs: lock })
    await write(path, read)
    expect(readFileSync(path, "utf8")).toBe(reference("campaign", lock))
  })

  it.each([
    ["pretty, two-space indent", (lock: object) => JSON.stringify(lock, null, 2)],
    ["all on one line", (lock: object) => JSON.stringify(lock)],
    ["with CRLF line ends", (lock: object) => serializeLock(lock as LockFile).replace(/\n/g, "\r\n")],
    ["with blank lines at the end", (lock: object) => `${serializeLock(lock as LockFile)}\n\n`],
    ["without the last newline", (lock: object) => serializeLock(lock as LockFile).trimEnd()],
    ["with its outputs out of order", (lock: object) => serializeLock(lock as LockFile).replace(/^("out\/a.*),\n(.*)\n/m, "$2,\n$1\n")],
    ["with an entry over two lines", (lock: object) => serializeLock(lock as LockFile).replace(`"costUsd":0.9,`, `"costUsd":0.9,\n`)],
    [
      "with its keys in another order",
      (lock: object) =>
        serializeLock(lock as LockFile).replace(`"costUsd":0.9,"durationSeconds":3.2,`, `"durationSeconds":3.2,"costUsd":0.9,`)
    ]
  ])("reads a valid version 2 lock edited by hand: %s", async (_, layout) => {
    const path = lockPath()
    const lock: LockFile = { version: 2, pipeline: "campaign", outputs: { "out/a.mp4": sample, "out/b.mp4": { ...sample, costUsd: 1.5 } } }
    const text = layout(lock)
    JSON.parse(text)
    expect(text).not.toBe(serializeLock(lock))
    writeFileSync(path, text)
    expect(await readRight(path)).toEqual(lock)
  })

  it("any edit of a lock is read as JSON reads it: the same lock when it is valid JSON, refused when not", async () => {
    const path = lockPath()
    const edit = fc.oneof(
      fc.record({ delete: fc.nat() }),
      fc.record({ insert: fc.nat(), text: fc.constantFrom(",", "\n", "}", "{", `"`, ":", "1", " ", ",\n", "}}\n") }),
      fc.record({ copyLine: fc.nat() }),
      fc.record({ deleteLine: fc.nat() })
    )
    await fc.assert(
      fc.asyncProperty(outputs(3), fc.array(edit, { minLength: 1, maxLength: 3 }), async (outputs, edits) => {
        let text = serializeLock({ version: 2, pipeline: "campaign", outputs })
        for (const e of edits) {
          const lines = text.split("\n")
          if ("delete" in e) text = text.slice(0, e.delete % text.length) + text.slice((e.delete % text.length) + 1)
          else if ("insert" in e) text = text.slice(0, e.insert % text.length) + e.text + text.slice(e.insert % text.length)
          else if ("copyLine" in e) text = lines.toSpliced(e.copyLine % lines.length, 0, lines[e.copyLine % lines.length]!).join("\n")
          else text = lines.toSpliced(e.deleteLine % lines.length, 1).join("\n")
        }
        writeFileSync(path, text)
        const got = await read(path)
        let json: unknown
        try {
          // As the file holds it: half a surrogate pair is written as U+FFFD.
          json = JSON.parse(readFileSync(path, "utf8"))
        } catch {
          expect(Either.isLeft(got) && got.left._tag).toBe("StateCorrupt")
          return
        }
        // The same value in another layout, which only JSON.parse reads.
        writeFileSync(path, JSON.stringify(json, null, 2))
        const expected = await read(path)
        // Compared as JSON, as the reference went through it (an edit can make a -0, which JSON writes
        // 0), keys sorted: a value, whatever order its keys were read in.
        if (Either.isRight(expected))
          expect(Either.isRight(got) && JSON.stringify(got.right, sortKeys)).toBe(JSON.stringify(expected.right, sortKeys))
        else expect(Either.isLeft(got) && got.left._tag).toBe(expected.left._tag)
      }),
      { numRuns: 300, interruptAfterTimeLimit: 20_000, markInterruptAsFailure: true }
    )
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
  ])("%s: refused, naming the output, the field and the entry's line, in either version", async (_, damage, message) => {
    const path = lockPath()
    const damaged = { "out/a.mp4": sample, "out/b.mp4": damage(sample) as LockEntry, "out/c.mp4": sample }
    for (const text of [serializeLock({ version: 2, pipeline: "campaign", outputs: damaged }), version1("campaign", damaged)]) {
      writeFileSync(path, text)
      const error = await refusal(path)
      expect(error.message).toMatch(message)
      expect(error.line).toBe(text.split("\n").findIndex((line) => line.startsWith(`"out/b.mp4":`) || line.includes(` "out/b.mp4":`)) + 1)
    }
  })

  it("an entry refused names its own line, whatever its id holds and wherever else the id is written", async () => {
    const path = lockPath()
    const id = `out/say "hi" \\ there.mp4`
    const damaged = { ...sample, output: { sha256: "bb" } } as unknown as LockEntry
    // The id also written as a key in an earlier entry, where a search for it would land.
    const text = serializeLock({
      version: 2,
      pipeline: "campaign",
      outputs: { "out/a.mp4": { ...sample, parameters: { [id]: 1 } }, [id]: damaged }
    })
    writeFileSync(path, text)
    const error = await refusal(path)
    expect(error.reason).toBe(`the lock entry for "${id}" is not valid (\`output.size\` is missing)`)
    expect(error.line).toBe(3)
  })

  it("a line cut short is refused, naming its line", async () => {
    const path = lockPath()
    const lines = serializeLock({
      version: 2,
      pipeline: "campaign",
      outputs: { "out/a.mp4": sample, "out/b.mp4": sample, "out/c.mp4": sample }
    }).split("\n")
    lines[2] = lines[2]!.slice(0, 40)
    writeFileSync(path, lines.join("\n"))
    const error = await refusal(path)
    expect(error.line).toBe(3)
    expect(error.reason).toMatch(/^the lock file is not valid JSON/)
  })

  it("one of another version or pipeline is refused for that, whatever it holds, in either layout", async () => {
    const path = lockPath()
    for (const text of [
      `{"version":3,"pipeline":"campaign","outputs":{\n"out/a.mp4":{"digest":"x"}\n}}\n`,
      JSON.stringify({ version: 3, pipeline: "campaign", outputs: { "out/a.mp4": { digest: "x" } } }, null, 2)
    ]) {
      writeFileSync(path, text)
      expect((await refusal(path)).reason).toBe("lock file version 3 is not one this Clapper reads (1 or 2)")
    }
    for (const text of [serializeLock({ version: 2, pipeline: "other", outputs: { "out/a.mp4": sample } }), version1("other", {})]) {
      writeFileSync(path, text)
      const error = await refusal(path)
      expect(error.reason).toBe(`the lock file is for pipeline "other", not "campaign"`)
      expect(error.line).toBe(1)
    }
  })

  it("one that is not JSON, or has no outputs, is refused", async () => {
    const path = lockPath()
    writeFileSync(path, "{oops")
    expect((await refusal(path)).reason).toMatch(/^the lock file is not valid JSON/)
    writeFileSync(path, JSON.stringify({ version: 2, pipeline: "campaign" }))
    expect((await refusal(path)).reason).toBe("the lock file has no outputs")
  })

  it("one that cannot be read is a StateIoError, never taken for a missing one", async () => {
    const path = lockPath()
    mkdirSync(path)
    const result = await read(path)
    expect(Either.isLeft(result) && result.left._tag).toBe("StateIoError")
  })

  it("a 100,000-output lock is written and read back whole, line by line", async () => {
    const path = lockPath()
    const lines = makeLockLines()
    const outputs: Record<string, LockEntry> = {}
    for (let i = 0; i < 100_000; i++) {
      // Not ASCII: characters of several bytes fall across the reader's chunks.
      const id = `renders/zoë-${(i * 7919) % 100_000}.mp4`
      const entry = { ...sample, videoId: `video_${i}`, parameters: { speech: { text: `héllo — 你好 ${i}` } } }
      outputs[id] = entry
      lines.set(id, entry)
    }
    const bytes = lines.bytes("campaign")
    await Effect.runPromise(writeLockFile(path, bytes))
    const text = readFileSync(path, "utf8")
    expect(text.split("\n")).toHaveLength(100_003)
    expect(text).toBe(reference("campaign", outputs))
    expect(await readRight(path)).toEqual({ version: 2, pipeline: "campaign", outputs })
    expect(readdirSync(dirname(path)).filter((name) => name.endsWith(".tmp"))).toEqual([])
  }, 60_000)
})
