/**
 * Running the step machine under TestClock: a run's shared context built as the scheduler builds
 * it (gate, health, stop, budget, ledger, events), settings with the provider's published quotas
 * (virtual time makes them free), and a driver that moves the TestClock from one scheduled wake-up
 * to the next until the machine is done, letting real file I/O (downloads to the temp folder)
 * finish between moves.
 */
import type { FileSystem, Path } from "@effect/platform"
import { NodeContext } from "@effect/platform-node"
import { Clock, Duration, Effect, Fiber, Random, Ref, TestClock } from "effect"
import type { Plan, PlannedJob } from "../../../src/plan/plan.ts"
import type { RenderRecord } from "../../../src/state/journalEntry.ts"
import { noRecorder, type Recorder } from "../../../src/state/recorder.ts"
import { makeApiHealth } from "../../../src/runtime/apiHealth.ts"
import { makeRunBudget } from "../../../src/runtime/budget.ts"
import type { RunEvent, RunSummary } from "../../../src/runtime/events.ts"
import { runJob } from "../../../src/runtime/jobMachine.ts"
import type { JobOutcome, JobProgress, MachineContext, MachineStart } from "../../../src/runtime/machineContext.ts"
import { makeRequestGate } from "../../../src/runtime/requestGate.ts"
import { defaultRunSettings, type RunSettings } from "../../../src/runtime/runSettings.ts"
import { runPlan, type RunPlanOptions } from "../../../src/runtime/runPlan.ts"
import { makeRunStop } from "../../../src/runtime/runStop.ts"
import { makeSubmitLedger } from "../../../src/runtime/submitLedger.ts"
import type { StubClient } from "./stubClient.ts"

type RetryOverrides = Partial<RunSettings["retry"]>

/** The defaults (published quotas, 5 s–30 s polls, 30 min timeout), with a few fields changed. */
export const machineSettings = (overrides: Partial<Omit<RunSettings, "retry">> & { readonly retry?: RetryOverrides } = {}): RunSettings => {
  const { retry, ...rest } = overrides
  return { ...defaultRunSettings, ...rest, retry: { ...defaultRunSettings.retry, ...retry } }
}

export interface Machine {
  readonly ctx: MachineContext
  readonly events: Array<RunEvent>
  readonly eventsOf: <T extends RunEvent["type"]>(type: T) => ReadonlyArray<Extract<RunEvent, { type: T }>>
}

/** A run's shared context for `runJob`, wired as `runPlan` wires it. */
export const makeMachine = (options: {
  readonly settings: RunSettings
  readonly cacheDir: string
  readonly recorder?: Recorder
  readonly stageRecord?: (fp: string) => RenderRecord | undefined
}): Effect.Effect<Machine> =>
  Effect.gen(function* () {
    const { settings } = options
    const events: Array<RunEvent> = []
    const emit = (event: RunEvent) => Effect.sync(() => void events.push(event))
    const emitNow = (event: (at: string) => RunEvent) =>
      Effect.flatMap(Clock.currentTimeMillis, (ms) => emit(event(new Date(ms).toISOString())))
    const gate = yield* makeRequestGate({
      requestsPerSecond: settings.requestsPerSecond,
      burst: Math.max(1, Math.ceil(settings.requestsPerSecond / 5)),
      quotas: settings.quotas
    })
    const stopping = yield* Ref.make(false)
    const warned = new Set<string>()
    const ctx: MachineContext = {
      settings,
      gate,
      health: yield* makeApiHealth(gate, {
        onOutage: (o) => emitNow((at) => ({ type: "run.waiting", at, reason: o.reason, sinceMs: o.since, retryAtMs: o.retryAt })),
        onRecovered: (downForMs) => emitNow((at) => ({ type: "run.resumed", at, downForMs }))
      }),
      runStop: yield* makeRunStop,
      keyName: "MIRAGE_API_KEY",
      warnOnce: (key, message) =>
        warned.has(key)
          ? Effect.void
          : Effect.zipRight(
              Effect.sync(() => void warned.add(key)),
              emitNow((at) => ({ type: "run.warning", at, message }))
            ),
      uploads: yield* Effect.makeSemaphore(settings.uploads),
      downloads: yield* Effect.makeSemaphore(settings.downloads),
      emit,
      stopping,
      progress: yield* Ref.make<ReadonlyMap<string, JobProgress>>(new Map()),
      possibleDuplicates: yield* Ref.make(0),
      budget: yield* makeRunBudget(settings.budgetUsd, stopping),
      ledger: yield* makeSubmitLedger({ claimed: [], orphanWindows: [], unresolved: [] }),
      recorder: options.recorder ?? noRecorder,
      startedAt: yield* Clock.currentTimeMillis,
      stageRecord: options.stageRecord ?? (() => undefined),
      cacheDir: options.cacheDir
    }
    return { ctx, events, eventsOf: (type) => events.filter((e): e is Extract<RunEvent, { type: typeof type }> => e.type === type) }
  })

const realTick = Effect.promise(() => new Promise<void>((resolve) => setTimeout(resolve, 1)))

/**
 * Joins `fiber`, moving the TestClock straight to each next scheduled wake-up; when nothing is
 * scheduled the fiber is busy (file I/O), and real time is let pass. Dies past `limit` of virtual
 * time or 20 s of real time: a machine that never ends fails its test instead of hanging it.
 */
export const drive = <A, E>(fiber: Fiber.RuntimeFiber<A, E>, limit: Duration.DurationInput = "1 day"): Effect.Effect<A, E> =>
  Effect.gen(function* () {
    const start = yield* TestClock.currentTimeMillis
    const limitMs = Duration.toMillis(limit)
    const realStart = Date.now()
    for (;;) {
      if (fiber.unsafePoll() !== null) return yield* Fiber.join(fiber)
      const now = yield* TestClock.currentTimeMillis
      if (now - start > limitMs || Date.now() - realStart > 20_000) {
        yield* Fiber.interrupt(fiber)
        return yield* Effect.dieMessage(`the machine was still running after ${now - start} ms of TestClock time`)
      }
      const sleeps = yield* TestClock.sleeps()
      let next = Infinity
      for (const at of sleeps) next = Math.min(next, at)
      if (next === Infinity) yield* realTick
      else yield* TestClock.adjust(Math.max(0, next - now))
    }
  })

/** One job through `runJob` on the stub provider, driven by the TestClock. */
export const runMachine = (
  job: PlannedJob,
  machine: Machine,
  stub: StubClient,
  start: MachineStart = { _tag: "Submit" },
  options: { readonly deliver: "download" | "base" } = { deliver: "download" }
): Effect.Effect<JobOutcome, never, FileSystem.FileSystem | Path.Path> =>
  Effect.gen(function* () {
    const fiber = yield* Effect.fork(runJob(job, machine.ctx, start, options).pipe(Effect.provide(stub.layer)))
    return yield* drive(fiber)
  })

/** What every machine test runs in: the Node file system (temp folders), a fixed random seed. */
export const inMachineWorld = <A, E>(body: Effect.Effect<A, E, FileSystem.FileSystem | Path.Path>): Effect.Effect<A, E> =>
  body.pipe(Effect.provide(NodeContext.layer), Effect.withRandom(Random.make("clapper-machine")))

export interface PlanRun {
  readonly summary: RunSummary
  readonly events: ReadonlyArray<RunEvent>
  readonly eventsOf: <T extends RunEvent["type"]>(type: T) => ReadonlyArray<Extract<RunEvent, { type: T }>>
}

/** A whole plan through the scheduler (`runPlan`) on the stub provider, driven by the TestClock. */
export const runPlanned = (
  plan: Plan,
  stub: StubClient,
  options: Omit<RunPlanOptions, "emit"> & { readonly settings: RunSettings }
): Effect.Effect<PlanRun, never, FileSystem.FileSystem | Path.Path> =>
  Effect.gen(function* () {
    const events: Array<RunEvent> = []
    const fiber = yield* Effect.fork(
      runPlan(plan, { ...options, emit: (e) => Effect.sync(() => void events.push(e)) }).pipe(Effect.provide(stub.layer))
    )
    const summary = yield* drive(fiber)
    return { summary, events, eventsOf: (type) => events.filter((e): e is Extract<RunEvent, { type: typeof type }> => e.type === type) }
  })
