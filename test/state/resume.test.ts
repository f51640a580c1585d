/**
 * Stopping and running again is boring: the second run does only what is left, never pays twice,
 * and the lock file says what was rendered from what. One simulator outlives the runs, as the
 * real provider would; its counters are the witness.
 */
import type { FileSystem, Path } from "@effect/platform"
import { NodeContext } from "@effect/platform-node"
import { Duration, Effect, Either, Redacted, type Scope } from "effect"
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import type { RunEvent, RunSummary } from "../../src/runtime/events.ts"
import { loadPipeline } from "../../src/pipeline/load.ts"
import { planPipeline } from "../../src/plan/plan.ts"
import { runPipeline, type RunPipelineError, type RunPipelineOptions } from "../../src/app/runPipeline.ts"
import { MirageClient, layer as MirageClientLayer } from "../../src/mirage/MirageClient.ts"
import { openJournal, readJournal } from "../../src/state/journal.ts"
import type { JournalState } from "../../src/state/journalEntry.ts"
import { readPipelineState } from "../../src/plan/planState.ts"
import { fastSettings } from "../support/fastSettings.ts"
import * as Simulator from "../../src/sim/Simulator.ts"
import { tempProject, type TempProject } from "../support/tempProject.ts"
import { makeWav } from "../support/wav.ts"
import { roomySim } from "../support/testQuotas.ts"

const fast = fastSettings

const project = (n: number) => {
  const p = tempProject()
  for (let i = 0; i < n; i++) p.write(`voice/v${i}.wav`, makeWav(0.3, 300 + i * 11))
  const file = p.write(
    "campaign.yaml",
    `version: 1
name: campaign
output: out/{{ audio.stem }}.mp4
sets:
  all:
    matrix: { image: assets/presenters/alice.png, audio: voice/*.wav }
`
  )
  return { p, file }
}

type Counts = { submits: number; contents: number; polls: number; all: number }
const counts = (stats: Simulator.SimStats): Counts => ({
  submits: stats.requests["POST /v1/videos"] ?? 0,
  contents: stats.requests["GET /v1/videos/{video_id}/content"] ?? 0,
  polls: stats.requests["GET /v1/videos/{video_id}"] ?? 0,
  all: Object.entries(stats.requests)
    .filter(([r]) => r.includes("/v1/"))
    .reduce((a, [, n]) => a + n, 0)
})

/** A simulator that lives across the runs of one test, and a way to run the pipeline against it. */
const withSimulator = <A>(
  options: Partial<Simulator.SimulatorOptions>,
  body: (sim: {
    run: (
      file: string,
      extra?: Partial<RunPipelineOptions>
    ) => Effect.Effect<{ summary: RunSummary; events: Array<RunEvent>; delta: Counts }, RunPipelineError, FileSystem.FileSystem | Path.Path>
    stats: Effect.Effect<Simulator.SimStats>
    baseUrl: string
  }) => Effect.Effect<A, unknown, Scope.Scope | FileSystem.FileSystem | Path.Path>
) =>
  Effect.runPromise(
    Effect.scoped(
      Effect.gen(function* () {
        const sim = yield* Simulator.make({ ...roomySim, ffmpeg: false, renderFactor: 0, ...options })
        const run = (file: string, extra: Partial<RunPipelineOptions> = {}) =>
          Effect.gen(function* () {
            const before = counts(yield* sim.stats)
            const events: Array<RunEvent> = []
            const summary = yield* runPipeline(file, {
              backend: { _tag: "Api", baseUrl: sim.baseUrl, apiKey: "test-key" },
              baseSettings: fast,
              emit: (e) => Effect.sync(() => events.push(e)),
              ...extra
            })
            const after = counts(yield* sim.stats)
            const delta = {
              submits: after.submits - before.submits,
              contents: after.contents - before.contents,
              polls: after.polls - before.polls,
              all: after.all - before.all
            }
            return { summary, events, delta }
          })
        return yield* body({ run, stats: sim.stats, baseUrl: sim.baseUrl })
      })
    ).pipe(Effect.provide(NodeContext.layer))
  )

const lockOf = (p: TempProject) => readFileSync(join(p.root, "campaign.lock.json"), "utf8")

describe("resumable state", () => {
  it("a second run with nothing changed sends nothing and leaves the lock's bytes alone", async () => {
    const { p, file } = project(4)
    await withSimulator({}, ({ run }) =>
      Effect.gen(function* () {
        const first = yield* run(file)
        expect(first.delta.submits).toBe(4)
        const lock = lockOf(p)
        const second = yield* run(file)
        expect(second.delta.all).toBe(0)
        expect(second.summary.upToDate).toHaveLength(4)
        expect(lockOf(p)).toBe(lock)
      })
    )
  })

  it("the lock file records each output's fingerprint, inputs, model, video id, digest, size, duration and cost, sorted and without secrets", async () => {
    const { p, file } = project(2)
    await withSimulator({}, ({ run }) => run(file))
    const lock = JSON.parse(lockOf(p))
    expect(Object.keys(lock.outputs)).toEqual(["out/v0.mp4", "out/v1.mp4"])
    expect(lock.outputs["out/v0.mp4"]).toEqual({
      costUsd: 0.9,
      durationSeconds: 0.3,
      fingerprint: expect.stringMatching(/^sha256:[0-9a-f]{64}$/),
      inputs: {
        audio: { path: "voice/v0.wav", sha256: expect.stringMatching(/^[0-9a-f]{64}$/) },
        image: { path: "assets/presenters/alice.png", sha256: expect.stringMatching(/^[0-9a-f]{64}$/) }
      },
      model: "mirage-video-1-latest",
      output: { sha256: expect.stringMatching(/^[0-9a-f]{64}$/), size: expect.any(Number) },
      parameters: {},
      videoId: expect.stringMatching(/^video_/)
    })
    expect(lockOf(p)).not.toContain("test-key")
  })

  it("changing one input re-renders exactly the jobs that use it", async () => {
    const { p, file } = project(3)
    await withSimulator({}, ({ run }) =>
      Effect.gen(function* () {
        yield* run(file)
        p.write("voice/v1.wav", makeWav(0.4, 999))
        const second = yield* run(file)
        expect(second.delta.submits).toBe(1)
        expect(second.summary.completed).toEqual(["out/v1.mp4"])
      })
    )
  })

  it("renaming outputs moves the files, never re-renders; a deleted output is downloaded again", async () => {
    const { p, file } = project(2)
    await withSimulator({}, ({ run }) =>
      Effect.gen(function* () {
        yield* run(file)
        writeFileSync(file, readFileSync(file, "utf8").replace("out/{{ audio.stem }}.mp4", "renamed/{{ audio.stem }}-final.mp4"))
        const renamed = yield* run(file)
        expect(renamed.delta.all).toBe(0)
        expect(existsSync(join(p.root, "renamed/v0-final.mp4"))).toBe(true)
        expect(existsSync(join(p.root, "out/v0.mp4"))).toBe(false)
        expect(Object.keys(JSON.parse(lockOf(p)).outputs)).toEqual(["renamed/v0-final.mp4", "renamed/v1-final.mp4"])
        rmSync(join(p.root, "renamed/v1-final.mp4"))
        const restored = yield* run(file)
        expect(restored.delta).toMatchObject({ submits: 0, contents: 1 })
        expect(readFileSync(join(p.root, "renamed/v1-final.mp4")).subarray(4, 8).toString()).toBe("ftyp")
      })
    )
  })

  it("a job detached at its deadline is picked up by the next run by its id, never submitted again", async () => {
    const { file } = project(1)
    await withSimulator({ renderFactor: 3 }, ({ run }) =>
      Effect.gen(function* () {
        const first = yield* run(file, { baseSettings: { ...fast, timeout: Duration.millis(200) } })
        expect(first.summary.inFlight).toHaveLength(1)
        const second = yield* run(file)
        expect(second.delta.submits).toBe(0)
        expect(second.summary.completed).toEqual(["out/v0.mp4"])
      })
    )
  })

  it("a video that a lost and resubmitted submit may have made is never adopted by another job, in a later run either", async () => {
    const { p, file } = project(1)
    await withSimulator({}, ({ run, baseUrl }) =>
      Effect.gen(function* () {
        const plan = yield* planPipeline(yield* loadPipeline(file))
        const job = plan.jobs[0]!
        // An earlier run: another render's submit was lost at t, found no match and was sent again
        // (its window kept), and this job's submit was announced at t and never answered.
        const t = Date.now()
        const stateDir = join(p.root, ".clapper", "campaign")
        yield* Effect.scoped(
          Effect.gen(function* () {
            const journal = yield* openJournal(stateDir, "campaign")
            yield* journal.append({
              t: "possibleDuplicate",
              fp: "sha256:another-render",
              job: "out/gone.mp4",
              reason: "lost",
              from: t,
              until: t + 1000,
              at: t + 1000
            })
            yield* journal.append({ t: "intent", fp: job.fingerprint, job: job.id, at: t })
          })
        )
        // The provider holds one video from then, which this job's submit did not make: the
        // other render's lost submit did (here, any submit with other inputs).
        const orphan = yield* Effect.gen(function* () {
          const client = yield* MirageClient
          return yield* client.createVideo({
            image: join(p.root, "assets/presenters/alice.png"),
            audio: join(p.root, "voice/v0.wav"),
            model: job.model
          })
        }).pipe(Effect.provide(MirageClientLayer({ baseUrl, apiKey: Redacted.make("test-key"), requestTimeout: Duration.seconds(10) })))
        const { summary, events, delta } = yield* run(file)
        // Not adopted: the job was submitted again and says a duplicate may exist.
        expect(delta.submits).toBe(1)
        expect(summary.possibleDuplicates).toBe(1)
        const completed = events.find((e) => e.type === "job.completed")
        expect(completed?.type === "job.completed" && completed.videoId).not.toBe(orphan.id)
      })
    )
  })

  it("a lost submit is settled by a list that shows nothing in its window, and left as an orphan window when the list shows videos it cannot tell apart", async () => {
    const { p, file } = project(1)
    await withSimulator({}, ({ run, baseUrl }) =>
      Effect.gen(function* () {
        const job = (yield* planPipeline(yield* loadPipeline(file))).jobs[0]!
        const stateDir = join(p.root, ".clapper", "campaign")
        const client = MirageClientLayer({ baseUrl, apiKey: Redacted.make("test-key"), requestTimeout: Duration.seconds(10) })
        const loseSubmit = (t: number) =>
          Effect.scoped(
            Effect.flatMap(openJournal(stateDir, "campaign"), (journal) =>
              journal.append({ t: "intent", fp: job.fingerprint, job: job.id, at: t })
            )
          )
        const orphanWindows = Effect.map(readJournal(stateDir), (loaded) => loaded.state.orphanWindows)

        // Announced, never answered, and the provider has nothing from then: no video was made.
        yield* loseSubmit(Date.now())
        const first = yield* run(file)
        expect(first.delta.submits).toBe(1)
        expect(yield* orphanWindows).toEqual([])

        // Announced again (say, the output changed back), and now two videos of the window
        // cannot be told apart: neither is adopted, and the window is kept for later runs.
        rmSync(join(p.root, "out"), { recursive: true, force: true })
        rmSync(join(p.root, "campaign.lock.json"), { force: true })
        const t = Date.now()
        yield* loseSubmit(t)
        yield* Effect.gen(function* () {
          const mirage = yield* MirageClient
          for (let i = 0; i < 2; i++) {
            yield* mirage.createVideo({
              image: join(p.root, "assets/presenters/alice.png"),
              audio: join(p.root, "voice/v0.wav"),
              model: job.model
            })
          }
        }).pipe(Effect.provide(client))
        const second = yield* run(file)
        expect(second.delta.submits).toBe(1)
        expect(second.summary.possibleDuplicates).toBe(1)
        expect(yield* orphanWindows).toEqual([{ from: t, until: expect.any(Number) }])
      })
    )
  })

  it("a corrupt journal stops the run with the way out; --rebuild-state sets it aside and goes on from the lock and outputs", async () => {
    const { p, file } = project(2)
    await withSimulator({}, ({ run }) =>
      Effect.gen(function* () {
        yield* run(file)
        const journal = join(p.root, ".clapper", "campaign", "journal.jsonl")
        writeFileSync(journal, `${readFileSync(journal, "utf8")}{oops\n{"t":"complete"}\n`)
        const refused = yield* Effect.either(run(file))
        expect(refused._tag).toBe("Left")
        expect(Either.isLeft(refused) && refused.left.message).toMatch(/journal\.jsonl:\d+: this line is not valid JSON.*--rebuild-state/)
        const rebuilt = yield* run(file, { rebuildState: true })
        expect(rebuilt.delta.all).toBe(0)
        expect(rebuilt.events.filter((e) => e.type === "run.warning")).toHaveLength(1)
      })
    )
  })

  it("a torn last journal line (a crash mid-write) is reported, not fatal", async () => {
    const { p, file } = project(1)
    await withSimulator({}, ({ run }) =>
      Effect.gen(function* () {
        yield* run(file)
        const journal = join(p.root, ".clapper", "campaign", "journal.jsonl")
        writeFileSync(journal, `${readFileSync(journal, "utf8")}{"t":"intent","fp":"sha256:ab`)
        const again = yield* run(file)
        expect(again.delta.all).toBe(0)
        expect(again.events).toContainEqual(expect.objectContaining({ type: "run.warning", message: expect.stringContaining("cut short") }))
      })
    )
  })

  it("a lock file for another pipeline is refused, never silently re-rendered", async () => {
    const { p, file } = project(1)
    writeFileSync(join(p.root, "campaign.lock.json"), JSON.stringify({ version: 1, pipeline: "other", outputs: {} }))
    await withSimulator({}, ({ run }) =>
      Effect.gen(function* () {
        const refused = yield* Effect.either(run(file))
        expect(refused._tag).toBe("Left")
        expect(Either.isLeft(refused) && refused.left.message).toContain(`the lock file is for pipeline "other", not "campaign"`)
      })
    )
  })
})

describe("one runner per pipeline, and what plan says", () => {
  it("a second run while one is going is refused, naming the holder", async () => {
    const { file } = project(2)
    await withSimulator({ renderFactor: 2 }, ({ run }) =>
      Effect.gen(function* () {
        const [first, second] = yield* Effect.all([Effect.either(run(file)), Effect.either(Effect.delay(run(file), "150 millis"))], {
          concurrency: "unbounded"
        })
        expect(first._tag).toBe("Right")
        expect(Either.isLeft(second) && second.left._tag).toBe("RunnerLocked")
        expect(Either.isLeft(second) && second.left.message).toMatch(new RegExp(`is being run by pid ${process.pid} on .*clapper unlock`))
      })
    )
  })

  it("plan shows each job's state from the journal and the lock", async () => {
    const { p, file } = project(3)
    const states = () =>
      Effect.gen(function* () {
        const pipeline = yield* loadPipeline(file)
        const plan = yield* planPipeline(pipeline)
        const state = yield* readPipelineState(pipeline, plan)
        return { byJob: Object.fromEntries(plan.jobs.map((j) => [j.id, state.jobs.get(j.id)?.name])), counts: state.counts }
      })
    await withSimulator({}, ({ run }) =>
      Effect.gen(function* () {
        expect((yield* states()).counts).toMatchObject({ new: 3 })
        yield* run(file)
        expect((yield* states()).counts).toMatchObject({ "up-to-date": 3 })
        p.write("voice/v1.wav", makeWav(0.05, 100))
        expect((yield* states()).byJob).toEqual({ "out/v0.mp4": "up-to-date", "out/v1.mp4": "changed", "out/v2.mp4": "up-to-date" })
      })
    )
    // A render still going at its deadline is in flight; one the provider failed is failed.
    await withSimulator({ renderFactor: 40 }, ({ run }) => run(file, { baseSettings: { ...fast, timeout: Duration.millis(150) } }))
    const now = () => Effect.runPromise(states().pipe(Effect.provide(NodeContext.layer)))
    expect((await now()).byJob["out/v1.mp4"]).toBe("in-flight")
    p.write("voice/v2.wav", makeWav(0.05, 200))
    // A provider that fails every render, and no longer knows v1's video: v1 is rendered again.
    await withSimulator({ failRate: 1, failCodes: ["generation_failed"] }, ({ run }) => run(file))
    expect((await now()).byJob).toEqual({ "out/v0.mp4": "up-to-date", "out/v1.mp4": "failed", "out/v2.mp4": "failed" })
  })
})

describe("the journal file", () => {
  it("compacts a long journal into a snapshot that folds to the same state", async () => {
    const { mkdtempSync } = await import("node:fs")
    const { tmpdir } = await import("node:os")
    const dir = mkdtempSync(join(tmpdir(), "clapper-journal-"))
    const fold = (state: JournalState) => ({
      renders: Object.fromEntries(state.renders),
      outputs: Object.fromEntries(state.outputs),
      orphanWindows: [...state.orphanWindows],
      retiredVideos: [...state.retiredVideos].sort()
    })
    const written = await Effect.runPromise(
      Effect.scoped(
        Effect.gen(function* () {
          const journal = yield* openJournal(dir, "big")
          for (let i = 0; i < 1500; i++) {
            const fp = `sha256:${i % 100}`
            yield* journal.append({ t: "intent", fp, job: `out/${i % 100}.mp4`, at: i }, { durable: false })
            yield* journal.append({ t: "submitted", fp, job: `out/${i % 100}.mp4`, videoId: `video_${i}`, at: i }, { durable: false })
            if (i % 500 === 0)
              yield* journal.append(
                { t: "possibleDuplicate", fp, job: `out/${i % 100}.mp4`, reason: "lost", from: i, until: i + 1, at: i },
                { durable: false }
              )
          }
          return fold(journal.state)
        })
      )
    )
    const linesBefore = readFileSync(join(dir, "journal.jsonl"), "utf8").split("\n").length
    const reopened = await Effect.runPromise(Effect.scoped(Effect.map(openJournal(dir, "big"), (j) => fold(j.state))))
    expect(reopened).toEqual(written)
    // What reconciliation must never adopt survives the compaction: earlier videos of each render
    // (submitted again) and the windows of lost submits that were sent again.
    expect(written.retiredVideos).toHaveLength(1400)
    expect(written.orphanWindows).toEqual([
      { from: 0, until: 1 },
      { from: 500, until: 501 },
      { from: 1000, until: 1001 }
    ])
    expect(linesBefore).toBeGreaterThan(3000)
    expect(readFileSync(join(dir, "journal.jsonl"), "utf8").trim().split("\n")).toHaveLength(2) // header + snapshot
    rmSync(dir, { recursive: true, force: true })
  })
})
