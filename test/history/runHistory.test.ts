/**
 * The run history from the library: `runPipeline` records every run; `pipelineLog` and
 * `pipelineRunEvents` (Effect and Promise) read it back, the events decoded with their Schema.
 */
import { it as effectIt } from "@effect/vitest"
import { NodeContext } from "@effect/platform-node"
import { Chunk, Effect, Either, Stream, TestClock } from "effect"
import { readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { pipelineLog, pipelineLogPromise, pipelineRunEvents, pipelineRunEventsPromise } from "../../src/app/pipelineLog.ts"
import { runPipeline } from "../../src/app/runPipeline.ts"
import type { RunEvent } from "../../src/runtime/events.ts"
import { blankSecrets, openRunHistory, runFile } from "../../src/state/runHistory.ts"
import { fastSettings } from "../support/fastSettings.ts"
import { tempProject } from "../support/tempProject.ts"
import { roomySim } from "../support/testQuotas.ts"
import { writeCampaign } from "../selection/support.ts"

const onNode = <A, E>(effect: Effect.Effect<A, E, NodeContext.NodeContext>) => Effect.runPromise(Effect.provide(effect, NodeContext.layer))

describe("the run history of runPipeline", () => {
  it("keeps every event the run emitted, but a status check whose status did not change; decoded on read", async () => {
    const p = tempProject()
    const file = writeCampaign(p)
    const emitted: Array<RunEvent> = []
    // Renders take a while: many status checks per job, most of them the same PROCESSING.
    const backend = { _tag: "Simulator", options: { ...roomySim, ffmpeg: false, renderFactor: 4 } } as const
    await onNode(
      runPipeline(file, {
        backend,
        baseSettings: fastSettings,
        select: { sets: ["hero"] },
        emit: (event) => Effect.sync(() => void emitted.push(event))
      })
    )
    const stored = await pipelineRunEventsPromise(file, 1)
    const changed = (events: ReadonlyArray<RunEvent>) => {
      const last = new Map<string, string>()
      return events.filter((e) => {
        if (e.type !== "job.progress") return true
        if (last.get(e.job) === e.status) return false
        last.set(e.job, e.status)
        return true
      })
    }
    expect(emitted.filter((e) => e.type === "job.progress").length).toBeGreaterThan(stored.filter((e) => e.type === "job.progress").length)
    expect(stored).toEqual(changed(emitted))
    expect(stored.at(-1)?.type).toBe("run.finished")

    // The same as a Stream, and the list of runs.
    const streamed = await onNode(Stream.runCollect(pipelineRunEvents(file, 1)))
    expect(Chunk.toReadonlyArray(streamed)).toEqual(stored)
    const log = await pipelineLogPromise(file)
    expect(log.runs).toHaveLength(1)
    expect(log.runs[0]).toMatchObject({ n: 1, outcome: "finished", exitCode: 0, completed: 2, failed: 0, command: ["runPipeline", file] })
  }, 60_000)

  it("a run that is not recorded: RunNotFound, saying which are", async () => {
    const p = tempProject()
    const file = writeCampaign(p)
    const none = await onNode(Effect.either(Stream.runCollect(pipelineRunEvents(file, 3))))
    expect(Either.isLeft(none) && none.left.message).toBe(
      "run 3 of campaign is not recorded: no run is recorded yet (clapper log lists them)"
    )
    expect((await onNode(pipelineLog(file))).runs).toEqual([])
  })

  it("an event line damaged in the middle of a run file: named by file and line when the events are read", async () => {
    const p = tempProject()
    const file = writeCampaign(p)
    const backend = { _tag: "Simulator", options: { ...roomySim, ffmpeg: false, renderFactor: 0 } } as const
    await onNode(runPipeline(file, { backend, baseSettings: fastSettings, select: { limit: 1 } }))
    const path = runFile(join(p.root, ".clapper", "campaign"), 1)
    const lines = readFileSync(path, "utf8").split("\n")
    lines[2] = '{"type":"job.queued","at":3}'
    writeFileSync(path, lines.join("\n"))
    const read = await onNode(Effect.either(Stream.runCollect(pipelineRunEvents(file, 1))))
    expect(Either.isLeft(read) && read.left.message).toMatch(/runs\/1\.ndjson:3: this line is not an event of a run \(.*\)/)
  }, 30_000)

  it("the command line is recorded without secrets", async () => {
    const p = tempProject()
    const file = writeCampaign(p)
    const backend = { _tag: "Simulator", options: { ...roomySim, ffmpeg: false, renderFactor: 0 } } as const
    const typed = ["clapper", "run", "campaign.yaml", "--api-key", "sk-live-1", "--token=abc", "--base-url", "https://me:pw@api.example/v1"]
    await onNode(runPipeline(file, { backend, baseSettings: fastSettings, select: { limit: 1 }, commandLine: typed }))
    const [run] = (await pipelineLogPromise(file)).runs
    expect(run?.command).toEqual([
      "clapper",
      "run",
      "campaign.yaml",
      "--api-key",
      "***",
      "--token=***",
      "--base-url",
      "https://***@api.example/v1"
    ])
    expect(readFileSync(runFile(join(p.root, ".clapper", "campaign"), 1), "utf8")).not.toMatch(/sk-live-1|abc|me:pw/)
    expect(blankSecrets(["run", "x", "--base-url", "https://h/?k=KEY123"], ["KEY123"])).toEqual([
      "run",
      "x",
      "--base-url",
      "https://h/?k=***"
    ])
  }, 30_000)
})

describe("the history writer", () => {
  effectIt.scoped("buffers events and writes them within a second (TestClock), and the rest when the run ends", () =>
    Effect.gen(function* () {
      const dir = tempProject().root
      const writer = yield* openRunHistory(dir, { command: ["clapper", "run", "x.yaml"] }, new Date(0))
      const lines = () => readFileSync(runFile(dir, writer.n), "utf8").trimEnd().split("\n")
      /** The write is a file system call: wait (briefly, for real) until it is on disk. */
      const eventually = (count: number) =>
        Effect.gen(function* () {
          for (let i = 0; i < 200 && lines().length < count; i++) yield* Effect.promise(() => new Promise((r) => setTimeout(r, 5)))
          return lines().length
        })
      expect(lines()).toHaveLength(1) // the header, before the run starts
      yield* writer.record({ type: "run.warning", at: "2026-01-01T00:00:00.000Z" })
      yield* writer.record({ type: "job.progress", at: "2026-01-01T00:00:00.100Z", job: "a.mp4", status: "PROCESSING" })
      yield* writer.record({ type: "job.progress", at: "2026-01-01T00:00:00.200Z", job: "a.mp4", status: "PROCESSING" })
      yield* TestClock.adjust("999 millis")
      expect(lines()).toHaveLength(1)
      yield* TestClock.adjust("1 millis")
      expect(yield* eventually(3)).toBe(3)
      yield* writer.record({ type: "job.progress", at: "2026-01-01T00:00:01.100Z", job: "a.mp4", status: "COMPLETE" })
      yield* writer.end({ outcome: "finished", exitCode: 0, completed: 1, failed: 0, spentUsd: 0.9 })
      expect(
        lines().map((l) => (JSON.parse(l) as { type?: string; t?: string; status?: string }).type ?? (JSON.parse(l) as { t: string }).t)
      ).toEqual(["run", "run.warning", "job.progress", "job.progress", "end"])
    })
  )
})
