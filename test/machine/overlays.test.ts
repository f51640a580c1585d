/**
 * Overlay variants through the scheduler on a scripted provider, under TestClock: one base video
 * rendered once and downloaded once, one overlay request for both texts; an overlay job that
 * FAILS fails every variant with its reason, one still PROCESSING at the timeout detaches them,
 * and a resumed run that knows the batch polls it instead of sending it again.
 */
import { describe, expect, it } from "@effect/vitest"
import { Duration, Effect } from "effect"
import { existsSync, readFileSync } from "node:fs"
import { Unauthorized } from "../../src/mirage/MirageError.ts"
import type { Plan } from "../../src/plan/plan.ts"
import { inMachineWorld, machineSettings, runPlanned } from "./support/machine.ts"
import { makeMemoryRecorder, type MemoryRecorder } from "./support/memoryRecorder.ts"
import { overlayPlan } from "./support/plans.ts"
import { makeStubClient, stubBaseUrl } from "./support/stubClient.ts"

const isMp4File = (path: string) => readFileSync(path).subarray(4, 8).toString("latin1") === "ftyp"

/** The fingerprint the run journaled the overlay batch under: the one remote job that is neither the base video nor a variant. */
const batchFingerprint = (plan: Plan, memory: MemoryRecorder) => {
  const known = new Set([...plan.jobs.map((j) => j.fingerprint), ...plan.jobs.map((j) => j.stages.video)])
  const fps = [...new Set(memory.calls.filter((c) => c.method === "intent" && !known.has(c.target.fp)).map((c) => c.target.fp))]
  expect(fps).toHaveLength(1)
  return fps[0]!
}

describe("overlay variants on a scripted provider", () => {
  it.effect("the base rendered and downloaded once, one request for both texts, each variant downloaded to its output", () =>
    inMachineWorld(
      Effect.gen(function* () {
        const { plan, cacheDir } = yield* overlayPlan()
        expect(plan.jobs.map((j) => j.stages.overlay?.text)).toEqual(["Made for you", "Book a demo"])
        const memory = makeMemoryRecorder()
        const stub = makeStubClient({ getTextOverlay: ({ n }) => (n < 2 ? "PROCESSING" : "COMPLETE") })
        const { summary } = yield* runPlanned(plan, stub, { settings: machineSettings(), cacheDir, recorder: memory.recorder })
        expect(summary.failed).toEqual([])
        expect(summary.completed).toEqual(plan.jobs.map((j) => j.id))
        expect(stub.count("createVideo")).toBe(1)
        expect(stub.count("downloadContent")).toBe(1)
        expect(stub.count("createTextOverlay")).toBe(1)
        expect(stub.calls.filter((c) => c.op === "downloadUrl").map((c) => c.id)).toEqual([
          `${stubBaseUrl}/files/ovl_0/0.mp4`,
          `${stubBaseUrl}/files/ovl_0/1.mp4`
        ])
        for (const job of plan.jobs) expect(isMp4File(job.output)).toBe(true)
        const batch = batchFingerprint(plan, memory)
        expect(memory.about(batch).map((c) => c.method)).toEqual(["intent", "submitted", "rendered"])
        expect(memory.calls.filter((c) => c.method === "completed").map((c) => [c.target.job, c.videoId])).toEqual(
          plan.jobs.map((j) => [j.id, "ovl_0"])
        )
      })
    )
  )

  it.effect("the overlay job ends FAILED: each variant fails with the provider's reason, nothing is downloaded", () =>
    inMachineWorld(
      Effect.gen(function* () {
        const { plan, cacheDir } = yield* overlayPlan()
        const memory = makeMemoryRecorder()
        const stub = makeStubClient({
          getTextOverlay: () => ({ status: "FAILED", error: { code: "render_failed", message: "the font could not be loaded" } })
        })
        const { summary, eventsOf } = yield* runPlanned(plan, stub, { settings: machineSettings(), cacheDir, recorder: memory.recorder })
        const reason = "the overlay job ovl_0 ended FAILED: the font could not be loaded"
        expect(summary.completed).toEqual([])
        expect(summary.failed).toEqual(plan.jobs.map((j) => ({ job: j.id, step: "overlay", reason, videoId: "ovl_0" })))
        expect(eventsOf("job.failed").map((e) => e.job)).toEqual(plan.jobs.map((j) => j.id))
        const failedRecords = memory.calls.filter((c) => c.method === "failed").map((c) => c.target)
        // Each variant's job, and the batch itself (recorded gone: the next run sends it again).
        expect(failedRecords.filter((t) => plan.jobs.some((j) => j.fingerprint === t.fp))).toEqual(
          plan.jobs.map((j) => ({ job: j.id, fp: j.fingerprint }))
        )
        expect(failedRecords.filter((t) => !plan.jobs.some((j) => j.fingerprint === t.fp))).toHaveLength(1)
        expect(stub.count("createTextOverlay")).toBe(1)
        expect(stub.count("downloadUrl")).toBe(0)
        expect(memory.methods()).not.toContain("completed")
        for (const job of plan.jobs) expect(existsSync(job.output)).toBe(false)
      })
    )
  )

  // The provider said the batch is of no use (FAILED): as for a FAILED video, the next run must
  // not poll that dead overlay job forever, but send the texts again.
  // Fails today: nothing records the batch's fingerprint as failed (only each variant's), so the
  // journal still says "submitted" and every later run polls ovl_0 and fails the same way.
  it.effect("a resumed run after the overlay job FAILED sends the batch again (the journal as the first run left it)", () =>
    inMachineWorld(
      Effect.gen(function* () {
        const { plan, cacheDir } = yield* overlayPlan()
        const settings = machineSettings()
        const first = makeMemoryRecorder()
        const failing = { status: "FAILED", error: { code: "render_failed", message: "the font could not be loaded" } } as const
        const stub = makeStubClient({ getTextOverlay: () => failing })
        const run1 = yield* runPlanned(plan, stub, { settings, cacheDir, recorder: first.recorder })
        expect(run1.summary.failed).toHaveLength(2)
        // The next run, on the same provider (which still says ovl_0 FAILED), from what the journal says.
        const second = makeMemoryRecorder()
        const run2 = yield* runPlanned(plan, stub, { settings, cacheDir, recorder: second.recorder, stageRecord: first.stageRecord })
        expect(stub.count("createTextOverlay")).toBe(2)
        expect(run2.summary.failed.map((f) => f.reason)).not.toContain("the overlay job ovl_0 ended FAILED: the font could not be loaded")
      })
    )
  )

  // Fails today: overlays.ts turns every StepFailed into a Failed outcome (failedOutcome); only
  // jobMachine.ts's `failed` stops the run on Unauthorized. Each variant fails with "refused the
  // API key (HTTP 403)" and the next base video is submitted (and paid for).
  it.effect("the key refused on the overlay request stops the run, as on any other request", () =>
    inMachineWorld(
      Effect.gen(function* () {
        const { plan, cacheDir } = yield* overlayPlan(2)
        expect(new Set(plan.jobs.map((j) => j.stages.video)).size).toBe(2)
        const stub = makeStubClient({
          createTextOverlay: () => Effect.fail(new Unauthorized({ operation: "createTextOverlay", status: 403 }))
        })
        const { summary } = yield* runPlanned(plan, stub, {
          settings: machineSettings({ concurrency: 1, uploads: 1, downloads: 1 }),
          cacheDir
        })
        expect(stub.count("createTextOverlay")).toBe(1)
        expect(summary.stopped?.reason).toBe("key-refused")
        // The second base video is never paid for once the key is known to be refused.
        expect(stub.count("createVideo")).toBe(1)
        expect(summary.failed).toEqual([])
      })
    )
  )

  it.effect(
    "the overlay job still PROCESSING past the timeout: the variants are detached; a resumed run that knows the batch does not send it again",
    () =>
      inMachineWorld(
        Effect.gen(function* () {
          const { plan, cacheDir } = yield* overlayPlan()
          const settings = machineSettings({ timeout: Duration.minutes(10) })
          const first = makeMemoryRecorder()
          const stub = makeStubClient({ getTextOverlay: () => "PROCESSING" })
          const run1 = yield* runPlanned(plan, stub, { settings, cacheDir, recorder: first.recorder })
          expect(run1.summary.completed).toEqual([])
          expect(run1.summary.failed).toEqual([])
          expect(run1.summary.inFlight).toEqual(plan.jobs.map((j) => ({ job: j.id, videoId: "ovl_0" })))
          expect(run1.eventsOf("job.detached").map((e) => [e.job, e.videoId])).toEqual(plan.jobs.map((j) => [j.id, "ovl_0"]))
          const batch = batchFingerprint(plan, first)
          const batchCalls = first.about(batch)
          expect(batchCalls.map((c) => c.method)).toEqual(["intent", "submitted", "detached"])
          // Detached at its deadline: the timeout after the batch was submitted (the run started at 0).
          expect(batchCalls[2]!.at - batchCalls[1]!.at).toBeLessThanOrEqual(Duration.toMillis(settings.timeout))
          expect(batchCalls[2]!.at).toBeGreaterThanOrEqual(Duration.toMillis(settings.timeout))
          expect(stub.count("createTextOverlay")).toBe(1)
          expect(stub.count("downloadUrl")).toBe(0)

          // The next run: the journal knows the base video (rendered) and the batch (submitted).
          const second = makeMemoryRecorder()
          const resumed = makeStubClient()
          resumed.seedOverlay({ id: "ovl_0", texts: plan.jobs.map((j) => j.stages.overlay!.text), status: "COMPLETE" })
          const submittedAt = batchCalls[1]!.at
          const stageRecord = (fp: string) =>
            fp === batch
              ? {
                  status: "submitted" as const,
                  videoId: "ovl_0",
                  submittedAt,
                  intentAt: batchCalls[0]!.at,
                  job: plan.jobs[0]!.id,
                  possibleDuplicates: 0
                }
              : first.stageRecord(fp)
          const run2 = yield* runPlanned(plan, resumed, { settings, cacheDir, recorder: second.recorder, stageRecord })
          expect(run2.summary.failed).toEqual([])
          expect(run2.summary.completed).toEqual(plan.jobs.map((j) => j.id))
          expect(resumed.count("createTextOverlay")).toBe(0)
          expect(resumed.count("createVideo")).toBe(0)
          expect(resumed.calls.filter((c) => c.op === "getTextOverlay").map((c) => c.id)).toEqual(["ovl_0"])
          expect(resumed.count("downloadUrl")).toBe(2)
          expect(second.about(batch).map((c) => c.method)).toEqual(["rendered"])
          for (const job of plan.jobs) expect(isMp4File(job.output)).toBe(true)
        })
      )
  )
})
