/**
 * The scheduler's units handed to the durable engine (runtime/runPlan.ts `Distribute`): every
 * worker starts a workflow for each unit it sees left to do (the same unit is the same workflow
 * from every worker, so it is done once) and waits for all of them; each workflow's activity runs
 * on the worker that owns its shard, `concurrency` at a time there, after reading what any runner
 * recorded of its renders. Each worker so ends with every job's outcome, wherever it ran.
 */
import type { FileSystem, Path } from "@effect/platform"
import { Entity, Sharding } from "@effect/cluster"
import { Activity, type WorkflowEngine } from "@effect/workflow"
import { type Context, Deferred, Effect, type Layer, Option, Schedule } from "effect"
import type { MirageClient } from "../../mirage/MirageClient.ts"
import type { RenderPlan, RenderStart } from "../../plan/resume.ts"
import type { JobOutcome } from "../../runtime/machineContext.ts"
import type { Distribute, RunUnit } from "../../runtime/runPlan.ts"
import type { JournalState, RenderRecord } from "../../state/journalEntry.ts"
import { recordedStart } from "../../state/renderStart.ts"
import type { SharedCampaign } from "../../state/sharedCampaign.ts"
import { takeUpWorkflow, TakeUpResult } from "./takeUpWorkflow.ts"

type Services = MirageClient | FileSystem.FileSystem | Path.Path

/** What the units were planned with, once this worker's run hands them over. */
interface Registered {
  readonly units: ReadonlyMap<string, RunUnit>
  readonly outcomes: Map<string, JobOutcome>
  readonly permits: Effect.Semaphore
  readonly services: Context.Context<Services>
  /** Done when this worker stops (Ctrl-C, or its run ends): its units in progress stop here, and go on elsewhere. */
  readonly stopping: Deferred.Deferred<void>
}

/** How long a worker looks at the others before starting units (the engine's refresh of assignments, and a second). */
const settleOfJoining = "4 seconds"

/** `units` from a place of their own: workers start a campaign's units in different orders, so their windows hold different units. */
const rotated = <A>(units: ReadonlyArray<A>): ReadonlyArray<A> => {
  const offset = Math.floor(Math.random() * units.length)
  return [...units.slice(offset), ...units.slice(0, offset)]
}

/** A machine's render started again from what is recorded now (another runner may have moved it on, or died mid-way). */
const fromRecord =
  (record: (fp: string) => RenderRecord | undefined) =>
  (render: RenderPlan): RenderPlan => {
    if (render.start._tag === "FromFile" || render.start._tag === "UpToDate") return render
    const now = recordedStart(record(render.fingerprint))
    const start: RenderStart = now._tag === "Done" ? { _tag: "Download", videoId: now.videoId } : now
    return { ...render, start }
  }

/**
 * The engine's side (registered as the workflow's handler before any workflow runs) and the
 * run's side (`distribute`) of a worker. `journal` is the run's, as `refresh` leaves it.
 */
export const makeWorkerDistribution = (shared: SharedCampaign, journal: JournalState) =>
  Effect.gen(function* () {
    const workflow = takeUpWorkflow(shared.campaign)
    const registered = yield* Deferred.make<Registered>()

    /** Ends when the shard of the entity running this leaves this worker (rebalanced, or the worker stopping). */
    const shardLeaving = Effect.gen(function* () {
      const sharding = yield* Sharding.Sharding
      const address = yield* Effect.serviceOption(Entity.CurrentAddress)
      if (Option.isNone(address)) return yield* Effect.never
      const shard = address.value.shardId
      yield* Effect.repeat(
        Effect.sync(() => sharding.hasShardId(shard)),
        { while: (held) => held, schedule: Schedule.spaced("500 millis") }
      )
    })

    const takeUp = (payload: typeof workflow.payloadSchema.Type) =>
      Effect.gen(function* () {
        const here = yield* Deferred.await(registered)
        const unit = here.units.get(payload.unit)
        if (unit === undefined) {
          // Done already when this worker planned (another's workflow, resumed here after its
          // worker died between the last record and the answer), or planned otherwise here.
          yield* shared.refresh(payload.fingerprints)
          return answerFromRecords(journal, payload.jobs, payload.fingerprints)
        }
        const work = here.permits.withPermits(1)(
          Effect.gen(function* () {
            yield* shared.refresh(unit.fingerprints)
            yield* unit.run(fromRecord((fp) => journal.renders.get(fp)))
            return unit.jobs.map((job) => ({ job: job.id, outcome: here.outcomes.get(job.id) ?? ({ _tag: "Stopped" } as JobOutcome) }))
          })
        )
        // The engine runs an activity to its end and moves a shard (to a worker that joined, or as
        // this one stops) once its activities are done, or after `entityTerminationTimeout`. So the
        // unit watches its shard: once it is leaving, or this worker stops, the work is interrupted
        // here (a submit in flight settles and is recorded), well before the shard moves, and the
        // activity waits to be cut off unanswered: its workflow goes on at the shard's next owner,
        // from what was recorded.
        const outcomes = yield* Effect.raceFirst(
          Effect.asSome(Effect.interruptible(work)),
          Effect.as(Effect.raceFirst(Deferred.await(here.stopping), shardLeaving), Option.none())
        )
        if (Option.isNone(outcomes)) return yield* Effect.interruptible(Effect.never)
        return { outcomes: outcomes.value } satisfies TakeUpResult
      }).pipe(
        // The state unreadable: the unit's jobs fail with why (nothing was sent for them here).
        Effect.catchAll((e) =>
          Effect.succeed({
            outcomes: payload.jobs.map((job) => ({
              job,
              outcome: { _tag: "Failed", step: "submit", reason: `the state could not be read: ${e.message}` } satisfies JobOutcome
            }))
          } satisfies TakeUpResult)
        )
      )

    const handler = workflow.toLayer((payload) =>
      // An earlier session's workflow, found by the engine: this session has its own for the unit.
      payload.epoch !== shared.epoch
        ? Effect.succeed({ outcomes: [], superseded: true } satisfies TakeUpResult)
        : Effect.flatMap(Deferred.await(registered), (here) =>
            Activity.make({ name: "takeUp", success: TakeUpResult, execute: takeUp(payload) }).pipe(Effect.provide(here.services))
          )
    )

    // Each worker keeps twice `concurrency` units started, of its own order: the engine spreads
    // them over the workers by shard (a worker that joins later gets its share of what is started
    // next), and a unit's start through the engine's tables (a few hundred ms) overlaps the work of
    // the units ahead of it instead of leaving a permit idle.
    const distribute =
      (engine: Layer.Layer<WorkflowEngine.WorkflowEngine>): Distribute =>
      (units, { concurrency, outcomes }) =>
        Effect.gen(function* () {
          const stopping = yield* Deferred.make<void>()
          yield* Deferred.succeed(registered, {
            units: new Map(units.map((u) => [u.key, u])),
            outcomes,
            permits: yield* Effect.makeSemaphore(concurrency),
            services: yield* Effect.context<Services>(),
            stopping
          })
          // Workers started together (CI jobs, pods) see each other within the engine's refresh of
          // assignments (3 s): starting after it, a unit begins where it stays instead of moving
          // once the others are seen (a move interrupts it, and a submit cut off must be reconciled).
          if (units.length > 0) yield* Effect.sleep(settleOfJoining)
          yield* Effect.forEach(
            rotated(units),
            (unit) =>
              // The engine's send waits for its answer uninterruptibly: Ctrl-C leaves it behind instead of waiting for the render.
              Effect.disconnect(
                workflow.execute({
                  campaign: shared.campaign,
                  epoch: shared.epoch,
                  unit: unit.key,
                  jobs: unit.jobs.map((j) => j.id),
                  fingerprints: unit.fingerprints
                })
              ).pipe(
                Effect.map((result) => {
                  for (const { job, outcome } of result.outcomes) outcomes.set(job, outcome as JobOutcome)
                })
              ),
            { concurrency: 2 * concurrency, discard: true }
          ).pipe(Effect.provide(engine), Effect.ensuring(Deferred.succeed(stopping, undefined)))
        })

    return { handler, distribute }
  })

/**
 * A unit this worker's plan does not hold: each job completed by the records (its output in
 * place), or failed with why (the pipeline differs between the workers' checkouts).
 */
const answerFromRecords = (journal: JournalState, jobs: ReadonlyArray<string>, fingerprints: ReadonlyArray<string>): TakeUpResult => ({
  outcomes: jobs.map((job) => {
    const output = journal.outputs.get(job)
    const outcome: JobOutcome =
      output !== undefined && fingerprints.includes(output.fp)
        ? { _tag: "Completed", videoId: output.videoId, bytes: output.size }
        : {
            _tag: "Failed",
            step: "submit",
            reason:
              "the worker this render was handed to plans the pipeline otherwise: run every worker on the same commit of the project, then run again"
          }
    return { job, outcome }
  })
})
