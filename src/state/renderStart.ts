/**
 * The one place a journal record becomes where a remote job starts again. The rule that keeps
 * the promise "nothing is paid twice": a render whose video is known is polled (and downloaded)
 * again, never resubmitted, unless the provider said that video is of no use (FAILED, cancelled,
 * gone); a submit whose answer was never recorded is reconciled before anything is sent.
 */
import type { RenderRecord } from "./journalEntry.ts"

export type RecordedStart =
  /** The remote job finished: its video is ready to download or to build on. */
  | { readonly _tag: "Done"; readonly videoId: string }
  | { readonly _tag: "Poll"; readonly videoId: string; readonly submittedAt: number }
  /** A submit was announced at `intentAt` and its outcome never settled: look for its video first. */
  | { readonly _tag: "Reconcile"; readonly intentAt: number }
  | { readonly _tag: "Submit" }

export const recordedStart = (record: RenderRecord | undefined): RecordedStart => {
  if (record === undefined) return { _tag: "Submit" }
  const { status, videoId } = record
  const submittedAt = record.submittedAt ?? record.intentAt ?? 0
  if (status === "complete" && videoId) return { _tag: "Done", videoId }
  if ((status === "submitted" || status === "detached") && videoId) return { _tag: "Poll", videoId, submittedAt }
  if (status === "submitting" && record.intentAt !== undefined) return { _tag: "Reconcile", intentAt: record.intentAt }
  if (status === "failed") {
    // A poll, a captioning or a download failed: the video is still there.
    if (videoId && !record.error?.videoGone) return { _tag: "Poll", videoId, submittedAt }
    if (record.error?.unsettledSubmit && record.intentAt !== undefined) return { _tag: "Reconcile", intentAt: record.intentAt }
  }
  return { _tag: "Submit" }
}
