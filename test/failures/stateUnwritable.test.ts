/**
 * The state folder (`.clapper/<name>/`, the journal) on a disk that fills up during a run: every
 * paid request needs its record, so the run stops paying at once, ends with a true summary and
 * exits 2 with one message that names the folder and the space it needs. Once space is freed,
 * the rerun completes and pays for nothing twice. Real file systems: a tmpfs filled to the last
 * page mid-run, and read-only bind mounts.
 */
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import {
  admittedDuplicates,
  apiRequests,
  expectEachPaidOnce,
  expectExit,
  expectOutputsAreMp4,
  fillUp,
  isMp4,
  journal,
  mountProblem,
  mountReadOnly,
  mountTmpfs,
  needsMounts,
  onlyErrorLine,
  onSimulator,
  posts,
  rendersOf,
  temporaryFiles,
  unmount
} from "./support.ts"

const outputs = Array.from({ length: 12 }, (_, i) => `out/v${String(i).padStart(2, "0")}.mp4`)

describe("the state folder cannot be written", () => {
  it.skipIf(mountProblem !== undefined)(
    needsMounts("its disk fills up during a run: the run stops paying at once, exit 2, one message; the rerun pays nothing twice"),
    async () => {
      // A little render time, so the journal fills while jobs are in flight at the provider.
      const { c, sim, run } = await onSimulator(outputs, { policy: { concurrency: 2 }, sim: { renderFactor: 0.3 } })
      mountTmpfs(c.stateDir, "256k")
      // Once the first render is paid for, the disk fills up: the journal has room left only in the
      // page it is writing (tmpfs allocates 4 KB pages), and soon needs another.
      let filled = false
      const first = await run({
        onEvent: (event) => {
          if (!filled && event.type === "job.submitted") {
            filled = true
            fillUp(c.stateDir)
          }
        }
      })
      expect(filled).toBe(true)
      expectExit(first, 2)
      // One message, naming the folder and the room it needs; no false "Nothing was sent".
      const line = onlyErrorLine(first)
      expect(line).toMatch(/^clapper: cannot write /)
      expect(line).toContain(c.stateDir)
      expect(line).toMatch(/no space left|ENOSPC/i)
      expect(line).toMatch(/Free at least \d+ MB/)
      expect(line).not.toMatch(/Nothing was sent/i)

      const summary = first.summary
      expect(summary, "the run ends with its summary").toBeDefined()
      expect(summary?.stopped).toEqual({ reason: "state-unwritable", message: line.replace(/^clapper: /, "") })
      // It stopped at once: jobs were left, untouched.
      expect(summary?.skipped.length).toBeGreaterThan(0)
      const stats = await sim.stats()
      // Every paid request had its intent on disk first.
      const intents = journal(c).filter((e) => e.t === "intent").length
      expect(posts(stats)).toBeLessThanOrEqual(intents)
      expect(posts(stats)).toBeLessThan(outputs.length)
      // The summary is true: what it calls done is on disk; what it calls skipped was never sent;
      // whatever was sent is accounted for.
      const plan = { jobs: rendersOf(c) }
      for (const job of plan.jobs) {
        const sent = stats.submissions[job.key] ?? 0
        if (summary?.completed.includes(job.id)) expect(isMp4(join(c.root, job.id)), job.id).toBe(true)
        if (summary?.skipped.includes(job.id)) expect(sent, `${job.id} is reported skipped`).toBe(0)
        if (sent > 0) {
          const accounted = [
            ...(summary?.completed ?? []),
            ...(summary?.inFlight.map((j) => j.job) ?? []),
            ...(summary?.failed.map((j) => j.job) ?? []),
            ...(summary?.unknownOutcome ?? [])
          ]
          expect(accounted, `${job.id} was sent`).toContain(job.id)
        }
      }

      // Space freed: the rerun completes, and nothing was paid twice.
      rmSync(join(c.stateDir, "filler"))
      const second = await run()
      expectExit(second, 0)
      expect([...(second.summary?.completed ?? []), ...(second.summary?.upToDate ?? [])].sort()).toEqual(outputs)
      const after = await sim.stats()
      const entries = journal(c)
      for (const job of plan.jobs) {
        const submissions = after.submissions[job.key] ?? 0
        expect(submissions, job.id).toBeGreaterThanOrEqual(1)
        expect(submissions, job.id).toBeLessThanOrEqual(1 + admittedDuplicates(entries, job.id))
        expect(isMp4(join(c.root, job.id)), job.id).toBe(true)
      }
      expect(temporaryFiles(c.root)).toEqual([])
    }
  )

  it.skipIf(mountProblem !== undefined)(
    needsMounts("it is read-only from the start: exit 2 naming it, nothing sent; writable again, the run completes"),
    async () => {
      const { c, sim, run } = await onSimulator(["out/v0.mp4", "out/v1.mp4"])
      mountReadOnly(c.stateDir)
      const first = await run()
      expectExit(first, 2)
      const line = onlyErrorLine(first)
      expect(line).toContain(c.stateDir)
      expect(line).toMatch(/read-only|EROFS/i)
      expect(apiRequests(await sim.stats())).toBe(0)
      expect(existsSync(join(c.root, "out"))).toBe(false)

      unmount(c.stateDir)
      const second = await run()
      expectExit(second, 0)
      expectEachPaidOnce(c, await sim.stats())
    }
  )

  it.skipIf(mountProblem !== undefined)(
    needsMounts(
      "the lock file cannot be replaced (a read-only mount over it): every job completes, exit 2 naming it; the rerun sends nothing and writes it"
    ),
    async () => {
      const { c, sim, run } = await onSimulator(["out/v0.mp4", "out/v1.mp4"])
      const lockFile = join(c.root, "campaign.lock.json")
      writeFileSync(lockFile, `${JSON.stringify({ outputs: {}, pipeline: "campaign", version: 1 }, null, 2)}\n`)
      mountReadOnly(lockFile)

      const first = await run()
      expectExit(first, 2)
      expect(onlyErrorLine(first)).toContain(lockFile)
      expect(first.summary?.completed).toEqual(c.outputs)
      expectOutputsAreMp4(c)
      const before = await sim.stats()

      unmount(lockFile)
      const second = await run()
      expectExit(second, 0)
      // Everything was recorded in the journal: nothing is sent, the lock file is written.
      expect(apiRequests(await sim.stats())).toBe(apiRequests(before))
      expect(Object.keys((JSON.parse(readFileSync(lockFile, "utf8")) as { outputs: object }).outputs)).toEqual(c.outputs)
      expect.soft(temporaryFiles(c.root), "temporary files left beside the pipeline").toEqual([])
    }
  )
})
