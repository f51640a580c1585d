/**
 * The production stages on the simulator: speech → video → captions → overlay variants, with the
 * simulator's counters proving each remote step happened once, across stops and restarts.
 */
import type { FileSystem, Path } from "@effect/platform"
import { NodeContext } from "@effect/platform-node"
import { Effect, Either, type Scope } from "effect"
import { readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { formatDiagnostic, PipelineInvalid, validatePipelinePromise } from "../../src/index.ts"
import type { RunEvent, RunSummary } from "../../src/runtime/events.ts"
import { runPipeline, type RunPipelineError, type RunPipelineOptions } from "../../src/app/runPipeline.ts"
import { fastSettings } from "../support/fastSettings.ts"
import { loadPipeline } from "../../src/pipeline/load.ts"
import { planPipeline } from "../../src/plan/plan.ts"
import { readPipelineState } from "../../src/plan/planState.ts"
import * as Simulator from "../../src/sim/Simulator.ts"
import { repoPipelineProject } from "../support/repoPipeline.ts"
import { runCli, watchCliRun, roomyQuotaFlags } from "../support/runCli.ts"
import { tempProject } from "../support/tempProject.ts"
import { roomySim } from "../support/testQuotas.ts"

const fast = fastSettings

const remote = (stats: Simulator.SimStats) => ({
  speech: stats.requests["POST /v1/audio/text-to-speech/{voice_id}"] ?? 0,
  videos: stats.requests["POST /v1/videos"] ?? 0,
  captions: stats.requests["POST /v1/videos/captions"] ?? 0,
  overlays: stats.requests["POST /v1/meta/text_overlays"] ?? 0
})

type Run = (
  extra?: Partial<RunPipelineOptions>
) => Effect.Effect<{ summary: RunSummary; events: Array<RunEvent> }, RunPipelineError, FileSystem.FileSystem | Path.Path>

const withOutreach = <A>(
  sim: Partial<Simulator.SimulatorOptions>,
  body: (ctx: {
    root: string
    file: string
    run: Run
    handle: Simulator.SimulatorHandle
  }) => Effect.Effect<A, unknown, Scope.Scope | FileSystem.FileSystem | Path.Path>
) => {
  const root = repoPipelineProject("outreach.yaml")
  const file = join(root, "pipelines", "outreach.yaml")
  return Effect.runPromise(
    Effect.scoped(
      Effect.gen(function* () {
        const handle = yield* Simulator.make({ ...roomySim, ffmpeg: false, renderFactor: 0.02, ...sim })
        const run: Run = (extra = {}) =>
          Effect.gen(function* () {
            const events: Array<RunEvent> = []
            const summary = yield* runPipeline(file, {
              backend: { _tag: "Api", baseUrl: handle.baseUrl, apiKey: "stage-key" },
              baseSettings: fast,
              emit: (e) => Effect.sync(() => events.push(e)),
              ...extra
            })
            return { summary, events }
          })
        return yield* body({ root, file, run, handle })
      })
    ).pipe(Effect.provide(NodeContext.layer))
  )
}

const isMp4 = (file: string) => readFileSync(file).subarray(4, 8).toString("latin1") === "ftyp"

describe("production stages", () => {
  it("outreach: CSV → script → speech → video → captions → two overlay variants, each remote step once", async () => {
    await withOutreach({}, ({ root, file, run, handle }) =>
      Effect.gen(function* () {
        const { summary } = yield* run()
        expect(summary.failed).toEqual([])
        expect(summary.completed).toHaveLength(6)
        // status prices each stage once: three videos and three captionings, not six whole renders.
        const pipeline = yield* loadPipeline(file)
        const state = yield* readPipelineState(pipeline, yield* planPipeline(pipeline))
        expect(state.spentUsd).toBe(summary.spentUsd)
        for (const job of summary.completed) expect(isMp4(join(root, job))).toBe(true)
        // Three prospects: three scripts spoken, three videos, three captionings, one overlay request each (2 texts).
        expect(remote(yield* handle.stats)).toEqual({ speech: 3, videos: 3, captions: 3, overlays: 3 })
        const lock = JSON.parse(readFileSync(join(root, "pipelines", "outreach.lock.json"), "utf8"))
        const entry = lock.outputs["renders/outreach/p-002-compiler-co-v1.mp4"]
        expect(entry.parameters).toEqual({
          speech: {
            voice: "voice_bright_en",
            text: "Hi Grace, this is Ada at Clapper. I made this short video for everyone at Compiler & Co..",
            model: "mirage-audio-1",
            sha256: expect.stringMatching(/^[0-9a-f]{64}$/)
          },
          captions: { template: "ctpl_yvE0ZnYzEj6ClCD2ee1f" },
          overlay: { index: 1, text: "Book a demo, Grace", color: "#FFCC00", size: 48 }
        })
        // Nothing changed: nothing is sent again.
        const again = yield* run()
        expect(again.summary.upToDate).toHaveLength(6)
        expect(remote(yield* handle.stats)).toEqual({ speech: 3, videos: 3, captions: 3, overlays: 3 })
      })
    )
  }, 60_000)

  it("a budget below the estimate refuses to start and sends nothing", async () => {
    await withOutreach({}, ({ run, handle }) =>
      Effect.gen(function* () {
        const refused = yield* Effect.either(run({ budgetUsd: 2 }))
        expect(Either.isLeft(refused) && refused.left._tag).toBe("BudgetExceeded")
        expect(Either.isLeft(refused) && refused.left.message).toContain("$3.15, is over the budget of $2.00")
        expect(Object.values((yield* handle.stats).requests).reduce((a, b) => a + b, 0)).toBe(0)
      })
    )
  })

  it("a run stops submitting before its spend would pass the budget, and says what is left", async () => {
    // Every render fails with rate_limit_exceeded, so resubmissions would spend past the estimate.
    await withOutreach({ failRate: 1, failCodes: ["rate_limit_exceeded"] }, ({ run, handle }) =>
      Effect.gen(function* () {
        const { summary } = yield* run({ budgetUsd: 3.15 })
        expect(summary.budget).toEqual({ limitUsd: 3.15, leftToDo: 6 })
        expect(summary.spentUsd).toBeLessThanOrEqual(3.15)
        // Three videos fit (3 × $0.90); the first resubmission would not.
        expect(remote(yield* handle.stats)).toMatchObject({ speech: 3, videos: 3, captions: 0 })
      })
    )
  })

  it("killed between stages, the next run redoes no finished stage", async () => {
    const root = repoPipelineProject("outreach.yaml")
    const file = join(root, "pipelines", "outreach.yaml")
    // Fast polls for the test; the pipeline is the repository's otherwise.
    writeFileSync(
      file,
      readFileSync(file, "utf8").replace("  budgetUsd: 10\n", "  budgetUsd: 10\n  poll: { interval: 50ms, maxInterval: 200ms }\n")
    )
    await Effect.runPromise(
      Effect.scoped(
        Effect.gen(function* () {
          const sim = yield* Simulator.make({ ...roomySim, ffmpeg: false, renderFactor: 0.1 })
          const cli = (killOnCaptions: boolean) =>
            Effect.promise(() =>
              watchCliRun(["run", "pipelines/outreach.yaml", "--base-url", sim.baseUrl, "--json", ...roomyQuotaFlags], {
                cwd: root,
                env: { MIRAGE_API_KEY: "stage-key" },
                onEvent: (event, signal) => {
                  if (killOnCaptions && event.type === "job.submitted" && event.step === "captions") signal("SIGKILL")
                }
              })
            )
          expect(yield* cli(true)).toBeNull()
          const afterKill = remote(yield* sim.stats)
          expect(afterKill.captions).toBeGreaterThanOrEqual(1)
          expect(yield* cli(false)).toBe(0)
          const final = remote(yield* sim.stats)
          // Speech and videos finished before the kill are not redone; each captioning happens once.
          expect(final).toEqual({ speech: 3, videos: 3, captions: 3, overlays: 3 })
        })
      ).pipe(Effect.provide(NodeContext.layer))
    )
  }, 90_000)

  it("a template error in a script is reported at its line and column; a script too long at its data row", async () => {
    const root = repoPipelineProject("outreach.yaml")
    const file = join(root, "pipelines", "outreach.yaml")
    const text = readFileSync(file, "utf8")
    writeFileSync(file, text.replace("Hi {{row.first_name}}", "Hi {{row.frist_name}}"))
    const line = text.split("\n").findIndex((l) => l.includes("Hi {{row.first_name}}")) + 1
    const column = text.split("\n")[line - 1]!.indexOf("{{row.first_name}}") + 1
    const error = await validatePipelinePromise(file).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(PipelineInvalid)
    expect((error as PipelineInvalid).diagnostics.map(formatDiagnostic)).toEqual([
      expect.stringMatching(
        new RegExp(`^.*outreach\\.yaml:${line}:${column}: unknown variable "row\\.frist_name" \\(did you mean "row\\.first_name"\\?`)
      )
    ])
    writeFileSync(file, text)
    const csv = join(root, "examples", "data", "outreach.csv")
    writeFileSync(csv, readFileSync(csv, "utf8").replace("Compiler & Co.", "x".repeat(6000)))
    const tooLong = await validatePipelinePromise(file).catch((e: unknown) => e)
    expect((tooLong as PipelineInvalid).diagnostics.map(formatDiagnostic)).toEqual([
      expect.stringMatching(/outreach\.csv:3:1: the speech script is \d+ characters, over the API's 5000/)
    ])
  })

  it("plan checks caption template ids at the provider when a key is at hand", async () => {
    const root = repoPipelineProject("outreach.yaml")
    const file = join(root, "pipelines", "outreach.yaml")
    writeFileSync(file, readFileSync(file, "utf8").replace("ctpl_yvE0ZnYzEj6ClCD2ee1f", "ctpl_typo"))
    await Effect.runPromise(
      Effect.scoped(
        Effect.gen(function* () {
          const sim = yield* Simulator.make({ ...roomySim, ffmpeg: false })
          const withKey = yield* Effect.promise(() =>
            runCli(["plan", "pipelines/outreach.yaml"], { cwd: root, env: { MIRAGE_API_KEY: "k", MIRAGE_BASE_URL: sim.baseUrl } })
          )
          expect(withKey.code).toBe(2)
          expect(withKey.stderr).toMatch(/pipelines\/outreach\.yaml:\d+:\d+: caption template "ctpl_typo" does not exist at the provider/)
          const withoutKey = yield* Effect.promise(() =>
            runCli(["plan", "pipelines/outreach.yaml"], { cwd: root, env: { MIRAGE_API_KEY: "" } })
          )
          expect(withoutKey.code).toBe(0)
          expect(withoutKey.stderr).toContain("caption templates not checked")
        })
      ).pipe(Effect.provide(NodeContext.layer))
    )
  })

  it("a spoken matrix: one speech request per distinct script, one video per image", async () => {
    const project = tempProject()
    const file = project.write(
      "pipeline.yaml",
      `version: 1
name: spoken-matrix
sets:
  intro:
    matrix: { image: "assets/presenters/*.{png,jpg}" }
    speech:
      voice: v_narrator
      text: "Hi, I am {{image.stem}} and this is our spring launch."
  outro:
    matrix: { image: "assets/presenters/*.{png,jpg}" }
    exclude: [{ image: assets/presenters/bob.jpg }]
    speech: { voice: v_narrator, text: "See you in the spring." }
`
    )
    const outputs = ["intro/alice--0", "intro/bob--1", "intro/carol--2", "outro/alice--0", "outro/carol--1"].map((o) => `renders/${o}.mp4`)
    await Effect.runPromise(
      Effect.scoped(
        Effect.gen(function* () {
          const handle = yield* Simulator.make({ ...roomySim, ffmpeg: false, renderFactor: 0 })
          const run = runPipeline(file, {
            backend: { _tag: "Api", baseUrl: handle.baseUrl, apiKey: "stage-key" },
            baseSettings: fast,
            emit: () => Effect.void
          })
          const summary = yield* run
          expect(summary.failed).toEqual([])
          expect([...summary.completed].sort()).toEqual(outputs)
          for (const output of outputs) expect(isMp4(join(project.root, output))).toBe(true)
          // Four distinct scripts (three presenters introduce themselves, one shared outro); five videos, one per image.
          expect(remote(yield* handle.stats)).toEqual({ speech: 4, videos: 5, captions: 0, overlays: 0 })
          const lock = JSON.parse(readFileSync(join(project.root, "pipeline.lock.json"), "utf8"))
          expect(Object.keys(lock.outputs).sort()).toEqual(outputs)
          expect(lock.outputs["renders/intro/bob--1.mp4"].inputs).toEqual({
            image: { path: "assets/presenters/bob.jpg", sha256: expect.stringMatching(/^[0-9a-f]{64}$/) }
          })
          expect(lock.outputs["renders/intro/bob--1.mp4"].parameters.speech).toEqual({
            voice: "v_narrator",
            text: "Hi, I am bob and this is our spring launch.",
            model: "mirage-audio-1",
            sha256: expect.stringMatching(/^[0-9a-f]{64}$/)
          })
          // Nothing changed: nothing is sent again.
          expect((yield* run).upToDate).toHaveLength(5)
          expect(remote(yield* handle.stats)).toEqual({ speech: 4, videos: 5, captions: 0, overlays: 0 })
        })
      ).pipe(Effect.provide(NodeContext.layer))
    )
  }, 60_000)
})
