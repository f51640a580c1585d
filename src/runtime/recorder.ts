/**
 * Where the step machine writes down its transitions. The file-backed journal and lock file
 * implement it (src/state/); a run without state (a library caller's quick render) uses
 * `noRecorder`. Calls that announce a remote call complete only once the record is durable.
 */
import { Effect } from "effect"
import type { PlannedJob } from "../plan/plan.ts"
import type { JobStep } from "./events.ts"

export interface OutputFacts {
  readonly sha256: string
  readonly size: number
  readonly mtimeMs: number
}

export interface Recorder {
  /** Before a submit is sent (durable). */
  readonly intent: (job: PlannedJob, at: number) => Effect.Effect<void>
  /** A submit's answer (durable). */
  readonly submitted: (job: PlannedJob, videoId: string, at: number) => Effect.Effect<void>
  /** The submit certainly created nothing. */
  readonly notSubmitted: (job: PlannedJob, at: number) => Effect.Effect<void>
  /** An unknown submit outcome matched to a listed video. */
  readonly adopted: (job: PlannedJob, videoId: string, at: number) => Effect.Effect<void>
  /** An unknown submit outcome that could not be matched; the job is submitted again. */
  readonly possibleDuplicate: (job: PlannedJob, reason: string, at: number) => Effect.Effect<void>
  readonly rendered: (job: PlannedJob, videoId: string, at: number) => Effect.Effect<void>
  readonly failed: (job: PlannedJob, failure: { step: JobStep; reason: string; code?: string; videoId?: string }, at: number) => Effect.Effect<void>
  readonly detached: (job: PlannedJob, videoId: string, at: number) => Effect.Effect<void>
  /** The output file is in place (durable; the lock file follows). */
  readonly completed: (job: PlannedJob, videoId: string, facts: OutputFacts, at: number) => Effect.Effect<void>
}

export const noRecorder: Recorder = {
  intent: () => Effect.void,
  submitted: () => Effect.void,
  notSubmitted: () => Effect.void,
  adopted: () => Effect.void,
  possibleDuplicate: () => Effect.void,
  rendered: () => Effect.void,
  failed: () => Effect.void,
  detached: () => Effect.void,
  completed: () => Effect.void
}
