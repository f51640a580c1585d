/**
 * An in-memory `Recorder` for the step-machine tests: every call kept in order (what, about which
 * remote job, when), and folded into a journal state exactly as the file-backed recorder's entries
 * would be (`applyEntry`), so a later run can resume from what this one recorded. A call can be
 * made to fail with `StateIoError` (a state folder that cannot be written).
 */
import { Effect } from "effect"
import { StateIoError } from "../../../src/state/journal.ts"
import { applyEntry, emptyJournalState, type JournalEntry, type JournalState, type RenderRecord } from "../../../src/state/journalEntry.ts"
import type { CompletedOutput, OutputFacts, RecordTarget, Recorder } from "../../../src/state/recorder.ts"

export type RecorderMethod = keyof Recorder

export interface RecorderCall {
  readonly method: RecorderMethod
  readonly target: RecordTarget
  readonly videoId?: string
  readonly at: number
  /** `failed`'s failure; `possibleDuplicate`'s reason; `rendered`'s video when it has a share link. */
  readonly detail?: unknown
  /** The call failed (`fail` said so): nothing was recorded. */
  readonly refused?: true
}

export interface MemoryRecorder {
  readonly recorder: Recorder
  readonly calls: ReadonlyArray<RecorderCall>
  /** The methods called, in order (refused calls included). */
  readonly methods: () => ReadonlyArray<RecorderMethod>
  /** The calls about one remote job (fingerprint). */
  readonly about: (fp: string) => ReadonlyArray<RecorderCall>
  /** What a journal of these calls folds into. */
  readonly journal: JournalState
  /** The journal's record of a remote job, as `runPlan`'s `stageRecord` option takes it. */
  readonly stageRecord: (fp: string) => RenderRecord | undefined
}

export const stateIoError = (reason = "ENOSPC: no space left on device") =>
  new StateIoError({ file: "/state/machine.journal", operation: "write", reason, freeBytes: 0 })

export const makeMemoryRecorder = (options: { readonly fail?: (call: RecorderCall) => StateIoError | undefined } = {}): MemoryRecorder => {
  const calls: Array<RecorderCall> = []
  const journal = emptyJournalState()
  const call = (entry: RecorderCall, journalEntry: JournalEntry): Effect.Effect<void, StateIoError> =>
    Effect.suspend(() => {
      const failure = options.fail?.(entry)
      if (failure) {
        calls.push({ ...entry, refused: true })
        return Effect.fail(failure)
      }
      calls.push(entry)
      applyEntry(journal, journalEntry)
      return Effect.void
    })
  const recorder: Recorder = {
    intent: (target, at) => call({ method: "intent", target, at }, { t: "intent", fp: target.fp, job: target.job, at }),
    submitted: (target, videoId, at) =>
      call({ method: "submitted", target, videoId, at }, { t: "submitted", fp: target.fp, job: target.job, videoId, at }),
    notSubmitted: (target, at) => call({ method: "notSubmitted", target, at }, { t: "notSubmitted", fp: target.fp, at }),
    adopted: (target, videoId, at) =>
      call({ method: "adopted", target, videoId, at }, { t: "adopted", fp: target.fp, job: target.job, videoId, at }),
    possibleDuplicate: (target, reason, window, at) =>
      call(
        { method: "possibleDuplicate", target, at, detail: reason },
        { t: "possibleDuplicate", fp: target.fp, job: target.job, reason, ...(window ?? {}), at }
      ),
    rendered: (target, video, at) =>
      call(
        { method: "rendered", target, videoId: video.videoId, at, ...(video.shareLinkUrl !== undefined ? { detail: video } : {}) },
        {
          t: "complete",
          fp: target.fp,
          videoId: video.videoId,
          ...(video.shareLinkUrl !== undefined ? { shareLinkUrl: video.shareLinkUrl } : {}),
          at
        }
      ),
    failed: (target, failure, at) =>
      call(
        { method: "failed", target, at, detail: failure, ...(failure.videoId !== undefined ? { videoId: failure.videoId } : {}) },
        {
          t: "failed",
          fp: target.fp,
          step: failure.step,
          reason: failure.reason,
          ...(failure.code !== undefined ? { code: failure.code } : {}),
          ...(failure.videoId !== undefined ? { videoId: failure.videoId } : {}),
          ...(failure.videoGone ? { videoGone: true } : {}),
          at
        }
      ),
    detached: (target, videoId, at) => call({ method: "detached", target, videoId, at }, { t: "detached", fp: target.fp, videoId, at }),
    completed: (output: CompletedOutput, facts: OutputFacts, at) =>
      call(
        { method: "completed", target: { job: output.job, fp: output.fp }, videoId: output.videoId, at, detail: facts },
        {
          t: "downloaded",
          job: output.job,
          fp: output.fp,
          videoId: output.videoId,
          sha256: facts.sha256,
          size: facts.size,
          mtimeMs: facts.mtimeMs,
          at
        }
      )
  }
  return {
    recorder,
    calls,
    methods: () => calls.map((c) => c.method),
    about: (fp) => calls.filter((c) => c.target.fp === fp),
    journal,
    stageRecord: (fp) => journal.renders.get(fp)
  }
}
