/**
 * The journal's vocabulary: one entry per transition of a render (keyed by fingerprint) or an
 * output (keyed by job id), and the state they fold into. Plain JSON, explicit and serialisable,
 * so another store (SQL, a workflow engine) can hold the same transitions later.
 */

export const journalVersion = 1

export type JournalEntry =
  | { readonly t: "header"; readonly version: number; readonly pipeline: string }
  /** Written (and synced) before a submit is sent: if no `submitted` follows, the outcome is unknown. */
  | { readonly t: "intent"; readonly fp: string; readonly job: string; readonly at: number }
  | { readonly t: "submitted"; readonly fp: string; readonly job: string; readonly videoId: string; readonly at: number }
  /** The submit certainly created nothing (refused before or by the provider): the intent is void. */
  | { readonly t: "notSubmitted"; readonly fp: string; readonly at: number }
  /** An unknown outcome resolved by finding the video in `GET /v1/videos`. */
  | { readonly t: "adopted"; readonly fp: string; readonly job: string; readonly videoId: string; readonly at: number }
  /**
   * An unknown outcome that could not be matched: submitted again, and a second video may exist.
   * `from`–`until`, when the lost submit could not be settled (the list unread, or videos that
   * could not be told apart), is its window: a video created in it may be that second video, so
   * no other job may adopt it, in this run or a later one.
   */
  | {
      readonly t: "possibleDuplicate"
      readonly fp: string
      readonly job: string
      readonly at: number
      readonly reason: string
      readonly from?: number
      readonly until?: number
    }
  | { readonly t: "complete"; readonly fp: string; readonly videoId: string; readonly at: number }
  | {
      readonly t: "failed"
      readonly fp: string
      readonly step: string
      readonly reason: string
      readonly code?: string
      readonly videoId?: string
      /**
       * The provider said `videoId` is of no use (it FAILED, was cancelled, or no longer exists):
       * the next run renders again. Otherwise a known video is polled and downloaded again,
       * never paid for twice. (Entries written before this field: a `code` meant FAILED.)
       */
      readonly videoGone?: boolean
      readonly at: number
    }
  | { readonly t: "detached"; readonly fp: string; readonly videoId: string; readonly at: number }
  | {
      readonly t: "downloaded"
      readonly job: string
      readonly fp: string
      readonly videoId: string
      readonly sha256: string
      readonly size: number
      readonly mtimeMs: number
      readonly at: number
    }
  | { readonly t: "snapshot"; readonly state: JournalSnapshot }

export type RenderStatus = "submitting" | "submitted" | "complete" | "failed" | "detached"

export interface RenderRecord {
  readonly status: RenderStatus
  readonly videoId?: string
  /** When the last submit was announced (epoch ms): the start of the reconciliation window. */
  readonly intentAt?: number
  readonly submittedAt?: number
  readonly job: string
  readonly error?: {
    readonly step: string
    readonly reason: string
    readonly code?: string
    /** The provider said the video is of no use: render again. */
    readonly videoGone?: boolean
    /** The last submit's outcome was never settled: its video may exist, reconcile before submitting. */
    readonly unsettledSubmit?: boolean
  }
  readonly possibleDuplicates: number
  /** Videos accepted for this render so far (a resubmission after FAILED is another): what was paid for. */
  readonly renders?: number
}

/** When a submit whose answer was lost may have created its video (epoch ms). */
export interface SubmitWindow {
  readonly from: number
  readonly until: number
}

export interface OutputRecord {
  readonly fp: string
  readonly videoId: string
  readonly sha256: string
  readonly size: number
  readonly mtimeMs: number
}

/**
 * The folded journal. Mutable maps on purpose: a 10,000-job campaign's journal holds tens of
 * thousands of entries, and copying a map per entry would make loading quadratic.
 */
export interface JournalState {
  /** By fingerprint. */
  readonly renders: Map<string, RenderRecord>
  /** By job id (output path relative to the project root). */
  readonly outputs: Map<string, OutputRecord>
  /** Windows of lost submits resubmitted without a match: whatever they made belongs to nobody. */
  readonly orphanWindows: Array<SubmitWindow>
  /** Video ids a render had before it was submitted again (a FAILED render, one the provider lost). */
  readonly retiredVideos: Set<string>
}

export const emptyJournalState = (): JournalState => ({ renders: new Map(), outputs: new Map(), orphanWindows: [], retiredVideos: new Set() })

/** The state as plain JSON, for a compaction snapshot. */
export interface JournalSnapshot {
  readonly renders: Readonly<Record<string, RenderRecord>>
  readonly outputs: Readonly<Record<string, OutputRecord>>
  /** Absent in snapshots written before they were kept. */
  readonly orphanWindows?: ReadonlyArray<SubmitWindow>
  readonly retiredVideos?: ReadonlyArray<string>
}

export const toSnapshot = (state: JournalState): JournalSnapshot => ({
  renders: Object.fromEntries(state.renders),
  outputs: Object.fromEntries(state.outputs),
  orphanWindows: state.orphanWindows,
  retiredVideos: [...state.retiredVideos]
})

const fresh = (job: string): RenderRecord => ({ status: "submitting", job, possibleDuplicates: 0 })

/** Folds one entry into the state (in place). Entries are applied in file order. */
export const applyEntry = (state: JournalState, entry: JournalEntry): void => {
  const render = (fp: string, job: string) => state.renders.get(fp) ?? fresh(job)
  /** The render's earlier video, replaced by a new submission, stays known (never adopted). */
  const retire = (r: RenderRecord, next?: string) => {
    if (r.videoId !== undefined && r.videoId !== next) state.retiredVideos.add(r.videoId)
  }
  switch (entry.t) {
    case "header":
      return
    case "snapshot":
      state.renders.clear()
      state.outputs.clear()
      state.retiredVideos.clear()
      for (const [fp, r] of Object.entries(entry.state.renders)) state.renders.set(fp, r)
      for (const [job, o] of Object.entries(entry.state.outputs)) state.outputs.set(job, o)
      state.orphanWindows.splice(0, state.orphanWindows.length, ...(entry.state.orphanWindows ?? []))
      for (const id of entry.state.retiredVideos ?? []) state.retiredVideos.add(id)
      return
    case "intent": {
      const r = render(entry.fp, entry.job)
      retire(r)
      state.renders.set(entry.fp, {
        status: "submitting",
        intentAt: entry.at,
        job: entry.job,
        possibleDuplicates: r.possibleDuplicates,
        ...(r.renders !== undefined ? { renders: r.renders } : {})
      })
      return
    }
    case "submitted":
    case "adopted": {
      const r = render(entry.fp, entry.job)
      retire(r, entry.videoId)
      // The same video answered again (a submit settling after Ctrl-C) is no new render.
      const renders = (r.renders ?? 0) + (r.videoId === entry.videoId ? 0 : 1)
      state.renders.set(entry.fp, { ...r, status: "submitted", videoId: entry.videoId, job: entry.job, submittedAt: entry.at, renders })
      return
    }
    case "notSubmitted":
      state.renders.delete(entry.fp)
      return
    case "possibleDuplicate": {
      const r = render(entry.fp, entry.job)
      state.renders.set(entry.fp, { ...r, possibleDuplicates: r.possibleDuplicates + 1 })
      if (entry.from !== undefined && entry.until !== undefined) state.orphanWindows.push({ from: entry.from, until: entry.until })
      return
    }
    case "complete":
      state.renders.set(entry.fp, { ...render(entry.fp, ""), status: "complete", videoId: entry.videoId })
      return
    case "failed": {
      const { error: previous, ...r } = render(entry.fp, "")
      // A submit announced and never answered stays to be reconciled, failed or not.
      const unsettledSubmit = r.status === "submitting" && r.intentAt !== undefined && entry.videoId === undefined
      const videoGone = entry.videoGone ?? entry.code !== undefined
      state.renders.set(entry.fp, {
        ...r,
        status: "failed",
        ...(entry.videoId !== undefined ? { videoId: entry.videoId } : {}),
        error: {
          step: entry.step,
          reason: entry.reason,
          ...(entry.code !== undefined ? { code: entry.code } : {}),
          ...(videoGone ? { videoGone } : {}),
          ...(unsettledSubmit || previous?.unsettledSubmit ? { unsettledSubmit: true } : {})
        }
      })
      return
    }
    case "detached":
      state.renders.set(entry.fp, { ...render(entry.fp, ""), status: "detached", videoId: entry.videoId })
      return
    case "downloaded":
      state.renders.set(entry.fp, { ...render(entry.fp, entry.job), status: "complete", videoId: entry.videoId })
      state.outputs.set(entry.job, { fp: entry.fp, videoId: entry.videoId, sha256: entry.sha256, size: entry.size, mtimeMs: entry.mtimeMs })
      return
  }
}

/** Every video id the journal knows of: a reconciliation never adopts one of these. */
export const claimedVideoIds = (state: JournalState): ReadonlySet<string> =>
  new Set([
    ...[...state.renders.values()].flatMap((r) => (r.videoId ? [r.videoId] : [])),
    ...[...state.outputs.values()].map((o) => o.videoId),
    ...state.retiredVideos
  ])
