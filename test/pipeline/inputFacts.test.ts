/**
 * A small input is read once and its facts taken from memory: the digest and the duration are
 * those of reading the file itself, and a file that is no audio fails with the same words.
 */
import { readdirSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { NodeContext } from "@effect/platform-node"
import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { audioDurationOfFile, audioDurationOfFileBytes } from "../../src/media/audioDuration.ts"
import { digestBytes, digestFile } from "../../src/media/digest.ts"
import { assetsDir, tempProject } from "../support/tempProject.ts"

const run = <A, E>(effect: Effect.Effect<A, E, NodeContext.NodeContext>) =>
  Effect.runPromise(Effect.either(Effect.provide(effect, NodeContext.layer)))

const assets = ["presenters", "voice", "locales", "outreach"].flatMap((dir) =>
  readdirSync(join(assetsDir, dir)).map((name) => join(assetsDir, dir, name))
)

describe("facts from memory", () => {
  it("digests are the file's, for every example asset and an empty file", async () => {
    const empty = tempProject().write("empty.bin", "")
    for (const file of [...assets, empty]) {
      expect(await run(digestFile(file))).toEqual(await run(Effect.succeed(digestBytes(readFileSync(file)))))
    }
  })

  it("durations are the file's, for every example WAV and MP3", async () => {
    const audio = assets.filter((file) => /\.(wav|mp3)$/.test(file))
    expect(audio.length).toBeGreaterThan(5)
    for (const file of audio) {
      const fromFile = await run(audioDurationOfFile(file))
      expect(fromFile._tag).toBe("Right")
      expect(await run(audioDurationOfFileBytes(readFileSync(file), file))).toEqual(fromFile)
    }
  })

  it("a file that is no audio fails with the same message either way", async () => {
    const p = tempProject()
    const files = [
      p.write("notes.mp3", "just text, not audio at all"),
      p.write("noise.bin", new Uint8Array(64).fill(7)),
      p.write("cut.wav", readFileSync(join(assetsDir, "voice", "hello.wav")).subarray(0, 30))
    ]
    for (const file of files) {
      const fromFile = await run(audioDurationOfFile(file))
      expect(fromFile._tag).toBe("Left")
      const fromBytes = await run(audioDurationOfFileBytes(readFileSync(file), file))
      expect(fromBytes._tag === "Left" ? fromBytes.left.message : "succeeded").toBe(fromFile._tag === "Left" ? fromFile.left.message : "")
    }
  })
})
