/**
 * An output folder that cannot be created (its parent read-only, or a file put where the folder
 * should be after the pipeline was checked) fails that job, after its render was paid for, with
 * a reason that names the folder; the other jobs complete, the summary is printed, the exit code
 * is 1, and nothing crashes. Once the folder can be made, the rerun downloads the render it has:
 * no second POST.
 */
import { mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import {
  contentGets,
  expectExit,
  isMp4,
  mountProblem,
  mountReadOnly,
  needsMounts,
  onSimulator,
  posts,
  runBlock,
  unmount
} from "./support.ts"

describe("an output folder that cannot be created fails its job, not the run", () => {
  it.skipIf(mountProblem !== undefined)(needsMounts("its parent is read-only"), async () => {
    const { c, sim, run } = await onSimulator(["ro/sub/v0.mp4", "out/v1.mp4", "out/v2.mp4"])
    mountReadOnly(join(c.root, "ro"))
    const failed = await run({ json: false })
    expectExit(failed, 1)
    // The summary, printed as it always is, with the failure and its reason.
    expect(failed.stdout).toMatch(/Finished in .*: 2 done, 1 failed, 0 in flight, 0 skipped \(3 jobs\)/)
    // The reason names the folder (Node reports a read-only parent of a recursive mkdir as ENOENT).
    expect(failed.stdout).toMatch(/^ {2}ro\/sub\/v0\.mp4: .*ro\/sub.*\(at download; video video_\w+\)$/m)
    expect(isMp4(join(c.root, "out/v1.mp4")) && isMp4(join(c.root, "out/v2.mp4"))).toBe(true)

    unmount(join(c.root, "ro"))
    const before = posts(await sim.stats())
    const again = await run({ json: false })
    expectExit(again, 0)
    expect(posts(await sim.stats())).toBe(before)
    expect(isMp4(join(c.root, "ro/sub/v0.mp4"))).toBe(true)
  })

  it("a file put where the folder should be, after the pipeline was checked", async () => {
    // Renders take a moment: the file appears while they are in flight.
    const { c, sim, run } = await onSimulator(["late/v0.mp4", "out/v1.mp4"], { sim: { renderFactor: 2 } })
    const blocker = join(c.root, "late")
    const failed = await run({
      json: false,
      // The first line is printed once the pipeline is checked and the run has started.
      onLine: (line) => {
        if (/^\S+ started campaign/.test(line)) writeFileSync(blocker, "a file, not a folder\n", { flag: "wx" })
      }
    })
    expectExit(failed, 1)
    expect(failed.stdout).toMatch(/Finished in .*: 1 done, 1 failed, 0 in flight, 0 skipped \(2 jobs\)/)
    expect(failed.stdout).toMatch(/^ {2}late\/v0\.mp4: .*late.*\(at download; video video_\w+\)$/m)
    expect(isMp4(join(c.root, "out/v1.mp4"))).toBe(true)

    rmSync(blocker)
    const before = posts(await sim.stats())
    const again = await run({ json: false })
    expectExit(again, 0)
    expect(posts(await sim.stats())).toBe(before)
    expect(isMp4(join(c.root, "late/v0.mp4"))).toBe(true)
  })

  it("a folder put where the output file should be, after the pipeline was checked", async () => {
    const { c, sim, run } = await onSimulator(["out/v0.mp4", "out/v1.mp4"], { sim: { renderFactor: 2 } })
    const blocker = join(c.root, "out/v0.mp4")
    const failed = await run({
      json: false,
      onLine: (line) => {
        if (/^\S+ started campaign/.test(line)) mkdirSync(join(blocker, "someone's folder"), { recursive: true })
      }
    })
    expectExit(failed, 1)
    expect(failed.stdout).toMatch(/Finished in .*: 1 done, 1 failed, 0 in flight, 0 skipped \(2 jobs\)/)
    expect(failed.stdout).toMatch(/^ {2}out\/v0\.mp4: .*v0\.mp4.*\(at download; video video_\w+\)$/m)
    expect(isMp4(join(c.root, "out/v1.mp4"))).toBe(true)
    // The folder and what is in it are left alone; no temporary file stays beside it.
    expect(readdirSync(blocker)).toEqual(["someone's folder"])
    expect(readdirSync(join(c.root, "out")).sort()).toEqual(["v0.mp4", "v1.mp4"])

    rmSync(blocker, { recursive: true })
    const before = posts(await sim.stats())
    const again = await run({ json: false })
    expectExit(again, 0)
    expect(posts(await sim.stats())).toBe(before)
    expect(isMp4(blocker)).toBe(true)
  })

  it.skipIf(mountProblem !== undefined)(
    needsMounts("a job sharing another's render, whose folder is read-only: it fails alone; the rerun copies the file, nothing is sent"),
    async () => {
      const { c, sim, run } = await onSimulator(["out/one.mp4"])
      // Same image, same audio: one render, the file copied to the second output.
      writeFileSync(
        c.file,
        [
          "version: 1",
          "name: campaign",
          runBlock(),
          "sets:",
          "  twins:",
          "    pairs:",
          "      - { image: assets/presenters/alice.png, audio: voice/v0.wav, output: out/one.mp4 }",
          "      - { image: assets/presenters/alice.png, audio: voice/v0.wav, output: ro/two.mp4 }",
          ""
        ].join("\n")
      )
      mountReadOnly(join(c.root, "ro"))
      const failed = await run({ json: false })
      expectExit(failed, 1)
      expect(failed.stdout).toMatch(/Finished in .*: 1 done, 1 failed, 0 in flight, 0 skipped \(2 jobs\)/)
      expect(failed.stdout).toMatch(/^ {2}ro\/two\.mp4: .*(read-only|EROFS).*\(at download; video video_\w+\)$/m)

      unmount(join(c.root, "ro"))
      const before = await sim.stats()
      const again = await run({ json: false })
      expectExit(again, 0)
      const after = await sim.stats()
      // Copied from the output that has the bytes: no submission, no download.
      expect(posts(after)).toBe(posts(before))
      expect(contentGets(after)).toBe(contentGets(before))
      expect(isMp4(join(c.root, "ro/two.mp4"))).toBe(true)
    }
  )
})
