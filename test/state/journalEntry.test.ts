/**
 * The journal's entries are a schema, decoded on read: a line that is not an entry is refused
 * with its line number and the field at fault, a torn last line is still only a warning, and the
 * entries the runtime writes decode to themselves.
 */
import { Effect, Either, Schema } from "effect"
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterEach, describe, expect, it, vi } from "vitest"
import { journalFile, readJournal, type StateCorrupt } from "../../src/state/journal.ts"
import { emptyJournalState, JournalEntry, JournalSnapshot, toSnapshot, applyEntry } from "../../src/state/journalEntry.ts"
import { rebuildState } from "../../src/state/rebuildState.ts"

/** Set to make every rename fail as a read-only folder would (root ignores permissions). */
const renames = vi.hoisted(() => ({ fail: false }))
vi.mock("node:fs/promises", async (importOriginal) => {
  const actual = await importOriginal<typeof import("node:fs/promises")>()
  return {
    ...actual,
    rename: (from: string, to: string) =>
      renames.fail
        ? Promise.reject(Object.assign(new Error("EACCES: permission denied, rename"), { code: "EACCES" }))
        : actual.rename(from, to)
  }
})

const dirs: Array<string> = []
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
})
const stateDir = () => {
  const dir = mkdtempSync(join(tmpdir(), "clapper-journal-"))
  dirs.push(dir)
  return dir
}

const header = JSON.stringify({ t: "header", version: 1, pipeline: "campaign" })
const fp = "sha256:0f"

/** One entry of every kind, as the recorder writes them. */
const oneOfEach: { readonly [T in JournalEntry["t"]]: Extract<JournalEntry, { t: T }> } = {
  header: { t: "header", version: 1, pipeline: "campaign" },
  intent: { t: "intent", fp, job: "out/a.mp4", at: 1 },
  submitted: { t: "submitted", fp, job: "out/a.mp4", videoId: "video_1", at: 2 },
  notSubmitted: { t: "notSubmitted", fp, at: 3 },
  adopted: { t: "adopted", fp, job: "out/a.mp4", videoId: "video_1", at: 4 },
  possibleDuplicate: { t: "possibleDuplicate", fp, job: "out/a.mp4", reason: "lost", from: 5, until: 6, at: 7 },
  complete: { t: "complete", fp, videoId: "video_1", at: 8 },
  failed: { t: "failed", fp, step: "poll", reason: "FAILED", code: "INVALID_AUDIO", videoId: "video_1", videoGone: true, at: 9 },
  detached: { t: "detached", fp, videoId: "video_1", at: 10 },
  downloaded: { t: "downloaded", job: "out/a.mp4", fp, videoId: "video_1", sha256: "ab", size: 12, mtimeMs: 13, at: 14 },
  snapshot: {
    t: "snapshot",
    state: {
      renders: {
        [fp]: {
          status: "failed",
          videoId: "video_1",
          intentAt: 1,
          submittedAt: 2,
          job: "out/a.mp4",
          error: { step: "poll", reason: "FAILED", code: "X", videoGone: true, unsettledSubmit: true },
          possibleDuplicates: 1,
          renders: 2
        }
      },
      outputs: { "out/a.mp4": { fp, videoId: "video_1", sha256: "ab", size: 12, mtimeMs: 13 } },
      orphanWindows: [{ from: 5, until: 6 }],
      retiredVideos: ["video_0"]
    }
  }
}

const writeJournal = (dir: string, text: string) => writeFileSync(journalFile(dir), text)

const corrupt = async (dir: string): Promise<StateCorrupt> => {
  const result = await Effect.runPromise(Effect.either(readJournal(dir)))
  if (Either.isRight(result)) throw new Error("the journal was read")
  if (result.left._tag !== "StateCorrupt") throw new Error(`not StateCorrupt: ${result.left.message}`)
  return result.left
}

describe("journal entries", () => {
  it.each(Object.values(oneOfEach))("$t: decodes from its JSON to itself", async (entry) => {
    expect(Schema.decodeUnknownSync(JournalEntry)(JSON.parse(JSON.stringify(entry)))).toEqual(entry)
  })

  it("a snapshot of folded state decodes to the same state", async () => {
    const state = emptyJournalState()
    for (const entry of Object.values(oneOfEach)) applyEntry(state, entry)
    const snapshot = toSnapshot(state)
    expect(Schema.decodeUnknownSync(JournalSnapshot)(JSON.parse(JSON.stringify(snapshot)))).toEqual(JSON.parse(JSON.stringify(snapshot)))
  })

  it("a journal of every kind of entry reads back, each line one entry", async () => {
    const dir = stateDir()
    const lines = Object.values(oneOfEach).map((e) => JSON.stringify(e))
    writeJournal(dir, `${lines.join("\n")}\n`)
    const loaded = await Effect.runPromise(readJournal(dir))
    expect(loaded.entries).toBe(lines.length)
    expect(loaded.warnings).toEqual([])
    expect(loaded.state.renders.get(fp)?.status).toBe("failed")
    expect(loaded.state.retiredVideos).toEqual(new Set(["video_0"]))
  })
})

describe("a journal line that is not an entry", () => {
  it.each([
    ["a missing field", { t: "submitted", fp, job: "out/a.mp4", at: 2 }, /:3: this line is not a journal entry \(`videoId` is missing\)/],
    ["a field of the wrong type", { t: "intent", fp, job: "out/a.mp4", at: "noon" }, /:3: .*`at`: expected number, actual "noon"/],
    [
      "an optional field of the wrong type",
      { t: "failed", fp, step: "poll", reason: "x", code: 3, at: 1 },
      /:3: .*`code`: expected string, actual 3/
    ],
    ["an unknown kind of entry", { t: "teleported", fp, at: 1 }, /:3: .*`t`: expected "header" \| "intent"/],
    ["no kind at all", { fp, at: 1 }, /:3: .*`t` is missing/],
    ["not an object", 42, /:3: .*expected JournalEntry, actual 42/],
    [
      "a snapshot with a damaged record",
      { t: "snapshot", state: { renders: { [fp]: { status: "lost", job: "j", possibleDuplicates: 0 } }, outputs: {} } },
      /:3: .*`state\.renders\.sha256:0f\.status`: expected "submitting" \| "submitted"/
    ]
  ])("%s: refused with its line and the field at fault", async (_, value, message) => {
    const dir = stateDir()
    writeJournal(dir, `${header}\n${JSON.stringify(oneOfEach.intent)}\n${JSON.stringify(value)}\n${JSON.stringify(oneOfEach.complete)}\n`)
    const error = await corrupt(dir)
    expect(error.line).toBe(3)
    expect(error.message).toMatch(message)
    expect(error.message).toContain("--rebuild-state")
  })

  it("the last line decoding to no entry is damage too, not a torn write: a torn line is never valid JSON", async () => {
    const dir = stateDir()
    writeJournal(dir, `${header}\n${JSON.stringify({ t: "intent", fp, job: "out/a.mp4" })}`)
    expect((await corrupt(dir)).reason).toMatch(/`at` is missing/)
  })

  it("a torn last line is a warning, and the intact part is what the journal holds", async () => {
    const dir = stateDir()
    const intact = `${header}\n${JSON.stringify(oneOfEach.intent)}\n`
    writeJournal(dir, `${intact}{"t":"submitted","fp":"sha256:0`)
    const loaded = await Effect.runPromise(readJournal(dir))
    expect(loaded.entries).toBe(2)
    expect(loaded.intactBytes).toBe(Buffer.byteLength(intact))
    expect(loaded.warnings).toEqual([expect.stringMatching(/journal\.jsonl:3: the last entry was cut short/)])
  })

  it("a line that is not JSON before the last is damage", async () => {
    const dir = stateDir()
    writeJournal(dir, `${header}\n{oops\n${JSON.stringify(oneOfEach.intent)}\n`)
    expect((await corrupt(dir)).message).toMatch(/journal\.jsonl:2: this line is not valid JSON/)
  })

  it("the header must come first, with this Clapper's version (checked before its fields)", async () => {
    const dir = stateDir()
    writeJournal(dir, `${JSON.stringify(oneOfEach.intent)}\n`)
    expect((await corrupt(dir)).reason).toBe("the journal does not start with its header")
    writeJournal(dir, `${JSON.stringify({ t: "header", version: 2, name: "campaign" })}\n`)
    expect((await corrupt(dir)).reason).toBe("journal version 2 is not one this Clapper reads (1)")
  })

  it("a journal that cannot be read is a StateIoError, never an empty journal", async () => {
    const dir = stateDir()
    mkdirSync(journalFile(dir))
    const result = await Effect.runPromise(Effect.either(readJournal(dir)))
    expect(Either.isLeft(result) && result.left._tag).toBe("StateIoError")
  })
})

describe("--rebuild-state", () => {
  it("sets a corrupt journal and lock file aside, renamed", async () => {
    const dir = stateDir()
    writeJournal(dir, `${header}\n${JSON.stringify({ t: "intent" })}\n`)
    const lockPath = join(dir, "campaign.lock.json")
    writeFileSync(lockPath, JSON.stringify({ version: 1, pipeline: "campaign", outputs: { "out/a.mp4": { fingerprint: 1 } } }))
    const setAside = await Effect.runPromise(rebuildState(dir, lockPath, "campaign"))
    expect(setAside.map((s) => s.from)).toEqual([journalFile(dir), lockPath])
    for (const { from, to } of setAside) {
      expect(existsSync(from)).toBe(false)
      expect(existsSync(to)).toBe(true)
    }
  })

  it("leaves a journal it cannot read where it is: a StateIoError says what to fix", async () => {
    const dir = stateDir()
    mkdirSync(journalFile(dir))
    const before = readdirSync(dir)
    const result = await Effect.runPromise(Effect.either(rebuildState(dir, join(dir, "campaign.lock.json"), "campaign")))
    expect(Either.isLeft(result) && result.left._tag).toBe("StateIoError")
    expect(readdirSync(dir)).toEqual(before)
  })

  it("a rename that fails is a StateIoError, not a defect", async () => {
    const dir = stateDir()
    const lockPath = join(dir, "campaign.lock.json")
    writeFileSync(lockPath, "{oops")
    renames.fail = true
    try {
      const result = await Effect.runPromise(Effect.either(rebuildState(dir, lockPath, "campaign")))
      expect(Either.isLeft(result) && result.left._tag === "StateIoError" && result.left.message).toMatch(
        /campaign\.lock\.json: permission denied/
      )
      expect(existsSync(lockPath)).toBe(true)
    } finally {
      renames.fail = false
    }
  })
})
