/**
 * `clapper run`'s runtime against the in-process simulator over real HTTP: faults injected by the
 * simulator, its counters as the witness. Short renders and polls keep this fast.
 */
import { NodeContext } from "@effect/platform-node"
import { Duration, Effect, Schedule } from "effect"
import { existsSync, readdirSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import * as Simulator from "../../src/sim/Simulator.ts"
import type { RunEvent } from "../../src/runtime/events.ts"
import * as Client from "../../src/mirage/MirageClient.ts"
import { makeMirageConfig } from "../../src/mirage/mirageConfig.ts"
import { loadPipeline } from "../../src/pipeline/load.ts"
import { planPipeline } from "../../src/plan/plan.ts"
import { readPipelineState } from "../../src/plan/planState.ts"
import { runPipeline } from "../../src/app/runPipeline.ts"
import { runPlan } from "../../src/runtime/runPlan.ts"
import type { RunSettings } from "../../src/runtime/runSettings.ts"
import { fastSettings } from "../support/fastSettings.ts"
import { tempProject, type TempProject } from "../support/tempProject.ts"
import { makeWav } from "../support/wav.ts"
import { roomySim } from "../support/testQuotas.ts"

const fast = fastSettings

/** A project with `n` jobs, each with its own audio (so each is its own render). */
const campaign = (project: TempProject, n: number, extra = "") => {
  for (let i = 0; i < n; i++) project.write(`voice/v${String(i).padStart(3, "0")}.wav`, makeWav(0.25 + (i % 5) * 0.05, 200 + i * 7))
  return project.write(
    "campaign.yaml",
    `version: 1
name: campaign
${extra}output: out/{{ audio.stem }}.mp4
sets:
  all:
    matrix: { image: assets/presenters/alice.png, audio: voice/*.wav }
`
  )
}

const isMp4 = (file: string) => readFileSync(file).subarray(4, 8).toString("latin1") === "ftyp"

const run = (
  file: string,
  sim: Partial<Simulator.SimulatorOptions>,
  settings: Partial<RunSettings> = {},
  onStats?: (s: Simulator.SimStats) => void
) =>
  Effect.runPromise(
    Effect.scoped(
      Effect.gen(function* () {
        const handle = yield* Simulator.make({ ...roomySim, ffmpeg: false, ...sim })
        const events: Array<RunEvent> = []
        if (onStats) {
          yield* Effect.forkScoped(
            Effect.repeat(
              Effect.flatMap(handle.stats, (s) => Effect.sync(() => onStats(s))),
              Schedule.spaced("20 millis")
            )
          )
        }
        const summary = yield* runPipeline(file, {
          backend: { _tag: "Api", baseUrl: handle.baseUrl, apiKey: "test-key" },
          baseSettings: { ...fast, ...settings },
          emit: (e) => Effect.sync(() => events.push(e))
        })
        return { summary, events, stats: yield* handle.stats }
      })
    ).pipe(Effect.provide(NodeContext.layer))
  )

describe("clapper run: the runtime on the simulator", () => {
  it("completes a 50-job campaign through 429s, 5xx, resets and FAILED rate_limit_exceeded, with no corrupt file", async () => {
    const p = tempProject()
    const file = campaign(p, 50)
    const { summary, events, stats } = await run(
      file,
      {
        renderFactor: 0.05,
        seed: 7,
        throttleRps: 60,
        errorRate: 0.1,
        resetRate: 0.1,
        failRate: 0.1,
        failCodes: ["rate_limit_exceeded"],
        truncateRate: 0.1
        // At 10 % of each fault, 5 attempts per request would lose a job now and then: leave room for bad luck.
      },
      { retry: { ...fast.retry, attempts: 10 } }
    )
    expect(summary.failed).toEqual([])
    expect(summary.completed).toHaveLength(50)
    const outputs = readdirSync(join(p.root, "out"))
    expect(outputs.filter((f) => f.endsWith(".mp4"))).toHaveLength(50)
    expect(outputs.filter((f) => !f.endsWith(".mp4"))).toEqual([]) // no temporary file left
    for (const f of outputs) expect(isMp4(join(p.root, "out", f))).toBe(true)
    // Every fault kind actually happened, and was survived.
    const retries: Array<string> = events.filter((e) => e.type === "job.retrying").map((e) => (e.type === "job.retrying" ? e.reason : ""))
    expect(retries, retries.join("\n")).toContainEqual(expect.stringContaining("429"))
    expect(retries.some((r) => /HTTP 5\d\d/.test(r))).toBe(true)
    expect(retries.some((r) => r.includes("rate_limit_exceeded") || r.toLowerCase().includes("rate limit"))).toBe(true)
    // A reset after the body was read created a video anyway: each such retry is counted as a possible duplicate.
    const duplicateRisks = events.filter((e) => e.type === "job.duplicateRisk").length
    expect(summary.possibleDuplicates).toBe(duplicateRisks)
    const submissions = Object.values(stats.submissions).reduce((a, b) => a + b, 0)
    const resubmittedAfterFailed = events.filter(
      (e) => e.type === "job.retrying" && e.step === "submit" && /rate.limit.exceeded/i.test(e.reason)
    ).length
    expect(submissions).toBeLessThanOrEqual(50 + duplicateRisks + resubmittedAfterFailed)
  }, 60_000)

  it("never has more jobs rendering at the provider than the concurrency, and keeps to the shared rate", async () => {
    const p = tempProject()
    const file = campaign(p, 24, "run: { concurrency: 3, requestsPerSecond: 40 }\n")
    let maxProcessing = 0
    const started = Date.now()
    const { summary, stats } = await run(file, { renderFactor: 0.2 }, { requestsPerSecond: 40 }, (s) => {
      maxProcessing = Math.max(maxProcessing, s.jobs["PROCESSING"] ?? 0)
    })
    const elapsedSeconds = (Date.now() - started) / 1000
    expect(summary.completed).toHaveLength(24)
    expect(maxProcessing).toBeGreaterThan(1)
    expect(maxProcessing).toBeLessThanOrEqual(3)
    const apiRequests = Object.entries(stats.requests)
      .filter(([route]) => route.includes("/v1/"))
      .reduce((a, [, n]) => a + n, 0)
    // The gate allows a burst of a fifth of a second's requests, then the rate.
    expect(apiRequests).toBeLessThanOrEqual(40 * elapsedSeconds + 8)
  }, 60_000)
})

describe("clapper run: what is not retried, what is counted, what is detached", () => {
  it("a 422 fails its job after one request and the other jobs go on", async () => {
    const p = tempProject()
    const file = campaign(p, 3)
    const { summary, stats } = await Effect.runPromise(
      Effect.scoped(
        Effect.gen(function* () {
          const handle = yield* Simulator.make({ ...roomySim, ffmpeg: false, renderFactor: 0 })
          const plan = yield* planPipeline(yield* loadPipeline(file))
          // The audio changes between plan and run (a person edits it): the provider refuses it.
          p.write("voice/v001.wav", "not audio any more")
          const summary = yield* runPlan(plan, { settings: fast, emit: () => Effect.void }).pipe(
            Effect.provide(Client.layer(makeMirageConfig({ apiKey: "k", baseUrl: handle.baseUrl })))
          )
          return { summary, stats: yield* handle.stats }
        })
      ).pipe(Effect.provide(NodeContext.layer))
    )
    expect(summary.completed).toEqual(["out/v000.mp4", "out/v002.mp4"])
    expect(summary.failed).toEqual([
      {
        job: "out/v001.mp4",
        step: "submit",
        reason: expect.stringMatching(/^createVideo: the Mirage API rejected the request \(422\): .*audio_reference/)
      }
    ])
    expect(stats.requests["POST /v1/videos"]).toBe(3)
  })

  it("a refused key (401) stops the whole run at once: no retry, no more submits, one message naming the key", async () => {
    const p = tempProject()
    const file = campaign(p, 6, "run: { concurrency: 1 }\n")
    const { summary, stats } = await run(file, { apiKey: "the-right-key" })
    expect(summary.completed).toEqual([])
    expect(summary.failed).toEqual([])
    expect(summary.stopped).toEqual({
      reason: "key-refused",
      message: expect.stringMatching(/^the API key given to the run was refused by http:\/\/127\.0\.0\.1:\d+ \(HTTP 401\): check the key/)
    })
    expect(summary.skipped).toHaveLength(6)
    // One submit refused, and nothing after it.
    expect(stats.requests["POST /v1/videos"]).toBe(1)
  })

  it("a submit whose connection is reset after the body was read is reconciled through the list: the video is adopted, not paid twice", async () => {
    const p = tempProject()
    const file = campaign(p, 3, "run: { concurrency: 1 }\n")
    const { summary, events, stats } = await run(file, { resetRate: 1, renderFactor: 0 })
    expect(summary.completed).toHaveLength(3)
    expect(summary.possibleDuplicates).toBe(0)
    expect(events.filter((e) => e.type === "job.duplicateRisk")).toEqual([])
    // The witness: one video per job, and the list was read to find them.
    expect(Object.values(stats.submissions)).toEqual([1, 1, 1])
    expect(stats.requests["GET /v1/videos"]).toBeGreaterThanOrEqual(3)
  })

  it("when the list holds no unclaimed match, the job is submitted again and counted as a possible duplicate", async () => {
    const p = tempProject()
    const file = campaign(p, 2, "run: { concurrency: 2 }\n")
    // Two resets at once: each sees two unclaimed videos in its window, which is ambiguous.
    const { summary, events, stats } = await run(file, { resetRate: 1, renderFactor: 0 }, { retry: { ...fast.retry, attempts: 2 } })
    const risks = events.filter((e) => e.type === "job.duplicateRisk").length
    expect(summary.possibleDuplicates).toBe(risks)
    expect(risks).toBeGreaterThan(0)
    expect(Object.values(stats.submissions).reduce((a, b) => a + b, 0)).toBe(2 + risks)
  })

  it("a render that ends FAILED rate_limit_exceeded is resubmitted up to the attempts, apart from the request's own retries", async () => {
    const p = tempProject()
    const file = campaign(p, 2, "run: { concurrency: 1 }\n")
    // Every submit's connection drops after the video was created (one retry, reconciled) and
    // every render fails: the job gets its 3 renders all the same, then fails with the reason.
    const retry = { ...fast.retry, attempts: 3, initialDelay: Duration.millis(100), maxDelay: Duration.millis(400) }
    const { summary, stats, events } = await run(
      file,
      { resetRate: 1, failRate: 1, failCodes: ["rate_limit_exceeded"], renderFactor: 0 },
      { retry }
    )
    expect(Object.values(stats.submissions)).toEqual([3, 3])
    // Each resubmission waits a backoff (full jitter under 100 ms, then 200 ms), as a retry would.
    const waits = events.flatMap((e) => (e.type === "job.retrying" && /rate.limit.exceeded/i.test(e.reason) ? [e.delayMs] : []))
    expect(waits).toHaveLength(4)
    expect(waits.every((ms) => ms >= 0 && ms <= 200)).toBe(true)
    expect(waits.reduce((a, b) => a + b, 0)).toBeGreaterThan(0)
    expect(summary.possibleDuplicates).toBe(0)
    expect(summary.completed).toEqual([])
    expect(summary.failed.map((f) => f.reason)).toEqual([
      expect.stringMatching(/rate limit.*\(3 renders failed\)/i),
      expect.stringMatching(/rate limit.*\(3 renders failed\)/i)
    ])
    // status counts every render paid for, as the run did: 3 per job, not 1.
    const state = await Effect.runPromise(
      Effect.gen(function* () {
        const pipeline = yield* loadPipeline(file)
        return yield* readPipelineState(pipeline, yield* planPipeline(pipeline))
      }).pipe(Effect.provide(NodeContext.layer))
    )
    // 2 jobs × 3 renders × $0.90 (a voice track under 6 s is billed as 6 s).
    expect(state.spentUsd).toBeCloseTo(2 * 3 * 0.9, 2)
  })

  it("a job still rendering at its timeout is detached, never resubmitted, and recorded as in flight", async () => {
    const p = tempProject()
    const file = campaign(p, 1)
    const { summary, events, stats } = await run(file, { renderFactor: 200 }, { timeout: Duration.millis(300) })
    expect(summary.failed).toEqual([])
    expect(summary.inFlight).toHaveLength(1)
    const videoId = summary.inFlight[0]!.videoId
    expect(events).toContainEqual(expect.objectContaining({ type: "job.detached", videoId }))
    expect(stats.requests["POST /v1/videos"]).toBe(1)
    // The journal keeps it for the next run, which polls it instead of submitting again.
    const journal = readFileSync(join(p.root, ".clapper", "campaign", "journal.jsonl"), "utf8")
    expect(journal).toContain(`{"t":"detached","fp":`)
    expect(journal).toContain(`"videoId":"${videoId}"`)
  })

  it("a download cut short resumes with a Range request and ends byte-identical to a clean one", async () => {
    const clean = tempProject()
    await run(campaign(clean, 4), { renderFactor: 0, ffmpeg: true })
    const cut = tempProject()
    // Cuts are drawn in request order, which concurrency shuffles: enough attempts make a job
    // whose every try is cut practically impossible (0.3^10).
    const { summary, events } = await run(
      campaign(cut, 4),
      { renderFactor: 0, ffmpeg: true, truncateRate: 0.3, seed: 3 },
      { retry: { ...fast.retry, attempts: 10 } }
    )
    expect(summary.completed).toHaveLength(4)
    expect(events.some((e) => e.type === "job.retrying" && e.step === "download")).toBe(true)
    for (const name of readdirSync(join(clean.root, "out"))) {
      expect(readFileSync(join(cut.root, "out", name)).equals(readFileSync(join(clean.root, "out", name)))).toBe(true)
    }
  }, 60_000)

  it("jobs that share a fingerprint share one render: one submission, the file copied", async () => {
    const p = tempProject()
    const file = p.write(
      "twins.yaml",
      `version: 1
name: twins
sets:
  a:
    pairs:
      - { image: assets/presenters/alice.png, audio: assets/voice/hello.wav, output: out/one.mp4 }
      - { image: assets/presenters/alice.png, audio: assets/voice/hello.wav, output: out/two.mp4 }
`
    )
    const { summary, events, stats } = await run(file, { renderFactor: 0 })
    expect(summary.completed).toEqual(["out/one.mp4", "out/two.mp4"])
    expect(stats.requests["POST /v1/videos"]).toBe(1)
    expect(events).toContainEqual(expect.objectContaining({ type: "job.completed", job: "out/two.mp4", sharedWith: "out/one.mp4" }))
    expect(readFileSync(join(p.root, "out/two.mp4")).equals(readFileSync(join(p.root, "out/one.mp4")))).toBe(true)
  })
})
