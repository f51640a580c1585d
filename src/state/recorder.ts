/**
 * Where the step machine writes down its transitions. The file-backed journal and lock file
 * implement it (src/state/); a run without state (a library caller's quick render) uses
 * `noRecorder`. Calls that announce a remote call complete only once the record is durable.
 */
import { Effect } from "effect"
import type { StateIoError } from "./journal.ts"
import type { SubmitWindow } from "./journalEntry.ts"
import type { LockEntry } from "./lockFile.ts"

export interface OutputFacts {
  readonly sha256: string
  readonly size: number
  readonly mtimeMs: number
  /** The generated voice track's digest, for a job whose voice was spoken from a script. */
  readonly speechSha256?: string
}

/**
 * What a record is about: a remote job (a video, a captioning, an overlay batch) keyed by the
 * fingerprint of what determines its result, and the job that asked for it.
 */
export interface RecordTarget {
  readonly job: string
  readonly fp: string
}

/** A finished video at the provider, as a render's record keeps it. */
export interface FinishedVideo {
  readonly videoId: string
  /** The provider's public share link (`share_link_url`), when it gave one. */
  readonly shareLinkUrl?: string
}

/** An output in place: its job, its render's fingerprint and video, and the lock entry that records it. */
export interface CompletedOutput {
  readonly job: string
  readonly fp: string
  readonly videoId: string
  readonly entry: LockEntry
}

/** Every call fails with `StateIoError` when the record cannot be written: the run then stops paying. */
export interface Recorder {
  /** Before a submit is sent (durable). */
  readonly intent: (target: RecordTarget, at: number) => Effect.Effect<void, StateIoError>
  /** A submit's answer (durable). */
  readonly submitted: (target: RecordTarget, videoId: string, at: number) => Effect.Effect<void, StateIoError>
  /** The submit certainly created nothing. */
  readonly notSubmitted: (target: RecordTarget, at: number) => Effect.Effect<void, StateIoError>
  /** An unknown submit outcome matched to a listed video. */
  readonly adopted: (target: RecordTarget, videoId: string, at: number) => Effect.Effect<void, StateIoError>
  /**
   * An unknown submit outcome that could not be matched; the job is submitted again. `window`
   * when it could not be settled: no video created in it may be adopted later.
   */
  readonly possibleDuplicate: (
    target: RecordTarget,
    reason: string,
    window: SubmitWindow | undefined,
    at: number
  ) => Effect.Effect<void, StateIoError>
  /** The provider finished the video (its share link with it, when it gave one). */
  readonly rendered: (target: RecordTarget, video: FinishedVideo, at: number) => Effect.Effect<void, StateIoError>
  readonly failed: (
    target: RecordTarget,
    failure: { step: string; reason: string; code?: string; videoId?: string; videoGone?: boolean },
    at: number
  ) => Effect.Effect<void, StateIoError>
  readonly detached: (target: RecordTarget, videoId: string, at: number) => Effect.Effect<void, StateIoError>
  /** The output file is in place (durable; the lock file follows with `entry`). */
  readonly completed: (output: CompletedOutput, facts: OutputFacts, at: number) => Effect.Effect<void, StateIoError>
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
