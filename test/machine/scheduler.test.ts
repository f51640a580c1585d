/**
 * The scheduler (`runPlan`) over the step machines on a scripted provider, under TestClock: what
 * is said once per run (an unknown status), what stops the whole run (the key refused, the state
 * unwritable), and an outage that pauses the run instead of failing its jobs.
 */
import { describe, expect, it } from "@effect/vitest"
import { Duration, Effect } from "effect"
import { existsSync } from "node:fs"
import { TransportError, Unauthorized } from "../../src/mirage/MirageError.ts"
import { outageAfterMs } from "../../src/runtime/apiHealth.ts"
import { recordedStart } from "../../src/state/renderStart.ts"
import { inMachineWorld, machineSettings, runPlanned } from "./support/machine.ts"
import { makeMemoryRecorder, stateIoError } from "./support/memoryRecorder.ts"
import { plainPlan } from "./support/plans.ts"
import { makeStubClient } from "./support/stubClient.ts"

describe("the scheduler on a scripted provider", () => {
  it.effect("a status Clapper does not know, for 10 polls of each of two jobs, then COMPLETE: both complete, one warning for the run", () =>
    inMachineWorld(
      Effect.gen(function* () {
        const { plan, cacheDir } = yield* plainPlan(2)
        const stub = makeStubClient({ getVideo: ({ n }) => (n < 10 ? "RENDERING_HQ" : "COMPLETE") })
        const { summary, eventsOf } = yield* runPlanned(plan, stub, { settings: machineSettings(), cacheDir })
        expect(summary.failed).toEqual([])
        expect(summary.completed).toEqual(plan.jobs.map((j) => j.id))
        expect(stub.count("getVideo")).toBe(22)
        const warnings = eventsOf("run.warning")
        expect(warnings).toHaveLength(1)
        expect(warnings[0]!.message).toContain('"RENDERING_HQ"')
        expect(eventsOf("job.progress").filter((e) => e.status === "RENDERING_HQ")).toHaveLength(20)
      })
    )
  )

  it.effect("a job failed after retry.attempts FAILED renders is rendered again by the next run, from the journal it left", () =>
    inMachineWorld(
      Effect.gen(function* () {
        const { plan, cacheDir } = yield* plainPlan(1)
        const job = plan.jobs[0]!
        const settings = machineSettings({ retry: { attempts: 2 } })
        const first = makeMemoryRecorder()
        const failing = makeStubClient({
          getVideo: () => ({ status: "FAILED", error: { code: "rate_limit_exceeded", message: "Rate limit exceeded." } })
        })
        const run1 = yield* runPlanned(plan, failing, { settings, cacheDir, recorder: first.recorder })
        expect(run1.summary.failed).toEqual([
          { job: job.id, step: "poll", reason: "Rate limit exceeded. (2 renders failed)", code: "rate_limit_exceeded", videoId: "vid_1" }
        ])
        expect(failing.count("createVideo")).toBe(2)
        // The provider said the video is of no use: the journal says render again, not poll vid_1.
        expect(recordedStart(first.stageRecord(job.fingerprint))).toEqual({ _tag: "Submit" })
        const healthy = makeStubClient()
        const run2 = yield* runPlanned(plan, healthy, { settings, cacheDir, stageRecord: first.stageRecord })
        expect(run2.summary.completed).toEqual([job.id])
        expect(healthy.count("createVideo")).toBe(1)
      })
    )
  )

  describe("the key refused on createVideo stops the run: 3 jobs, concurrency 1, one createVideo", () => {
    const refused = (settings: ReturnType<typeof machineSettings>) =>
      Effect.gen(function* () {
        const { plan, cacheDir } = yield* plainPlan(3)
        const memory = makeMemoryRecorder()
        const stub = makeStubClient({ createVideo: () => Effect.fail(new Unauthorized({ operation: "createVideo", status: 403 })) })
        const { summary, eventsOf } = yield* runPlanned(plan, stub, {
          settings,
          cacheDir,
          recorder: memory.recorder,
          keyName: "MIRAGE_API_KEY"
        })
        expect(stub.count("createVideo")).toBe(1)
        expect(summary.stopped?.reason).toBe("key-refused")
        expect(summary.stopped?.message).toContain("MIRAGE_API_KEY was refused by https://mirage.stub (HTTP 403)")
        expect(summary.completed).toEqual([])
        // Not one failure per job: the run stopped, the jobs are left to do.
        expect(summary.failed).toEqual([])
        expect(eventsOf("job.failed")).toEqual([])
        expect(summary.skipped).toEqual(plan.jobs.map((j) => j.id))
        expect(memory.methods()).toEqual(["intent", "notSubmitted"])
        expect(eventsOf("run.finished")).toHaveLength(1)
      })

    it.effect("at the default request rate", () => inMachineWorld(refused(machineSettings({ concurrency: 1, uploads: 1, downloads: 1 }))))

    // A fast rate and roomy quotas: the next job's submit is not held at the gate, so nothing but
    // the stop itself keeps it from being sent.
    it.effect("at a fast request rate, with nothing held at the gate", () =>
      inMachineWorld(
        refused(
          machineSettings({
            concurrency: 1,
            uploads: 1,
            downloads: 1,
            requestsPerSecond: 500,
            quotas: Object.fromEntries(
              Object.entries(machineSettings().quotas).map(([k]) => [k, { count: 1_000_000, perMs: 60_000 }])
            ) as ReturnType<typeof machineSettings>["quotas"]
          })
        )
      )
    )
  })

  it.effect("the journal cannot write a submit's intent: nothing is sent, the run stops as state-unwritable", () =>
    inMachineWorld(
      Effect.gen(function* () {
        const { plan, cacheDir } = yield* plainPlan(2)
        const memory = makeMemoryRecorder({ fail: (c) => (c.method === "intent" ? stateIoError() : undefined) })
        const stub = makeStubClient()
        const { summary, eventsOf } = yield* runPlanned(plan, stub, {
          settings: machineSettings({ concurrency: 1, uploads: 1, downloads: 1 }),
          cacheDir,
          recorder: memory.recorder
        })
        expect(stub.count("createVideo")).toBe(0)
        expect(stub.calls).toEqual([])
        expect(summary.stopped?.reason).toBe("state-unwritable")
        expect(summary.stopped?.message).toContain("ENOSPC")
        expect(summary.completed).toEqual([])
        expect(summary.failed).toEqual([])
        expect(summary.spentUsd).toBe(0)
        expect(eventsOf("job.submitting")).toEqual([])
        for (const job of plan.jobs) expect(existsSync(job.output)).toBe(false)
      })
    )
  )

  it.effect("an outage of status checks longer than 2 s: the run waits and resumes, the job completes", () =>
    inMachineWorld(
      Effect.gen(function* () {
        const { plan, cacheDir } = yield* plainPlan(1)
        const outageEnd = 40_000
        const refusedConnection = new TransportError({ operation: "getVideo", reason: "connect ECONNREFUSED", bodySent: false })
        const stub = makeStubClient({ getVideo: ({ now }) => (now < outageEnd ? refusedConnection : "COMPLETE") })
        // Patience well above the outage; few attempts, so attempts alone would not have carried the job through.
        const settings = machineSettings({ retry: { attempts: 3, patience: Duration.minutes(5) } })
        const { summary, events, eventsOf } = yield* runPlanned(plan, stub, { settings, cacheDir })
        expect(summary.failed).toEqual([])
        expect(summary.completed).toEqual([plan.jobs[0]!.id])
        const polls = stub.times("getVideo")
        const failedPolls = polls.filter((t) => t < outageEnd)
        expect(failedPolls.length).toBeGreaterThan(settings.retry.attempts)
        expect(failedPolls[failedPolls.length - 1]! - failedPolls[0]!).toBeGreaterThan(outageAfterMs)
        const waiting = eventsOf("run.waiting")
        const resumed = eventsOf("run.resumed")
        expect(waiting.length).toBeGreaterThanOrEqual(1)
        expect(waiting[0]!.reason).toContain("ECONNREFUSED")
        expect(resumed).toHaveLength(1)
        // Down from the first failed check to the first answer.
        expect(resumed[0]!.downForMs).toBe(polls.find((t) => t >= outageEnd)! - failedPolls[0]!)
        const order = events.map((e) => e.type).filter((t) => t === "run.waiting" || t === "run.resumed" || t === "job.completed")
        expect(order[order.length - 2]).toBe("run.resumed")
        expect(order[order.length - 1]).toBe("job.completed")
        expect(order.indexOf("run.waiting")).toBeLessThan(order.indexOf("run.resumed"))
      })
    )
  )
})
