/**
 * What every job's machine of one run shares: the policy, the limits (gate, upload and download
 * permits), the ledgers (submits, spend), where transitions are recorded and events go, and how
 * the run is stopped. Built once per run by the scheduler; each field is a concept of its own
 * module.
 */
import type { Effect, Ref } from "effect"
import type { RenderStart } from "../plan/resume.ts"
import type { RenderRecord } from "../state/journalEntry.ts"
import type { Recorder } from "../state/recorder.ts"
import type { ApiHealth } from "./apiHealth.ts"
import type { RunBudget } from "./budget.ts"
import type { JobStep, RunEvent } from "./events.ts"
import type { RequestGate } from "./requestGate.ts"
import type { RunSettings } from "./runSettings.ts"
import type { RunStop } from "./runStop.ts"
import type { SubmitLedger } from "./submitLedger.ts"

export type JobOutcome =
  | { readonly _tag: "Completed"; readonly videoId: string; readonly bytes: number }
  /** The video exists at the provider and is not downloaded (`deliver: "base"`: overlays take it from here). */
  | { readonly _tag: "Rendered"; readonly videoId: string; readonly speechSha256?: string }
  | {
      readonly _tag: "Failed"
      readonly step: JobStep
      readonly reason: string
      readonly code?: string
      readonly videoId?: string
      /** The provider said `videoId` is of no use (FAILED, cancelled, gone): the next run renders again. */
      readonly videoGone?: boolean
    }
  | { readonly _tag: "Detached"; readonly videoId: string }
  | { readonly _tag: "Skipped" }
  /** The run stopped (the key refused, the state unwritable) while this job was in the machine: its progress says where. */
  | { readonly _tag: "Stopped" }

/** What the run keeps per job while it is in the machine, so an interrupted run can say what is in flight. */
export type JobProgress =
  | { readonly _tag: "Submitting"; readonly attempt: number }
  | { readonly _tag: "Submitted"; readonly videoId: string }
  /** Interrupted while a submit was unanswered: a video may or may not exist. */
  | { readonly _tag: "UnknownOutcome" }

/** Where a job's machine starts: from nothing, or from what an earlier run left (one of the resume decision's starts). */
export type MachineStart = Exclude<RenderStart, { readonly _tag: "UpToDate" } | { readonly _tag: "FromFile" }>

export interface MachineContext {
  readonly settings: RunSettings
  readonly gate: RequestGate
  /** Told of every answer and every failure to get one: outages pause the run, not its jobs. */
  readonly health: ApiHealth
  /** Stops the whole run (the key refused, the state unwritable). */
  readonly runStop: RunStop
  /** How to name the key in a message: its environment variable (`MIRAGE_API_KEY`), or what gave it. */
  readonly keyName: string
  /** A warning said once per run, whatever number of jobs meet it (e.g. an unknown status). */
  readonly warnOnce: (key: string, message: string) => Effect.Effect<void>
  readonly uploads: Effect.Semaphore
  readonly downloads: Effect.Semaphore
  readonly emit: (event: RunEvent) => Effect.Effect<void>
  /** Set once Ctrl-C arrives (or the budget is reached): no new submission starts. */
  readonly stopping: Ref.Ref<boolean>
  readonly progress: Ref.Ref<ReadonlyMap<string, JobProgress>>
  readonly possibleDuplicates: Ref.Ref<number>
  readonly budget: RunBudget
  readonly ledger: SubmitLedger
  readonly recorder: Recorder
  /** When this run started: a job resumed from an earlier run gets its full timeout from here. */
  readonly startedAt: number
  /** What the journal knows of a remote job, by fingerprint: finished stages are not redone. */
  readonly stageRecord: (fp: string) => RenderRecord | undefined
  /** Where generated speech and intermediate videos are kept between stages and runs. */
  readonly cacheDir: string
}
