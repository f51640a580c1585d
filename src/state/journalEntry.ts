/**
 * The journal's vocabulary: one entry per transition of a render (keyed by fingerprint) or an
 * output (keyed by job id), and the state they fold into. Plain JSON, explicit and serialisable,
 * so another store (SQL, a workflow engine) can hold the same transitions later.
 *
 * The entries are Effect Schemas: the journal is decoded with them when it is read, so a line
 * that is not an entry this Clapper wrote is refused with the field at fault, never folded in as
 * if it were one. Their types are derived from the schemas.
 */
import { Schema } from "effect"

export const journalVersion = 1

const described = <S extends Schema.Schema.Any>(schema: S, description: string) => schema.annotations({ description }) as S

/** An optional field: absent or of its type (never `undefined`: the journal is JSON). */
const optional = <S extends Schema.Schema.All>(schema: S) => Schema.optionalWith(schema, { exact: true })

const fp = described(Schema.String, "The render's fingerprint (sha256 of what it is rendered from).")
const job = described(Schema.String, "The job's id: its output path relative to the project root.")
const videoId = described(Schema.String, "The provider's id of the video.")
const shareLinkUrl = described(
  Schema.String,
  "The provider's public share link of the finished video, when it gave one (entries written before this field have none)."
)
const at = described(Schema.Number, "When it happened (epoch ms).")

/** An entry: a struct whose `t` names it. */
const entry = <T extends string, F extends Schema.Struct.Fields>(t: T, fields: F, description: string) =>
  Schema.Struct({ t: Schema.Literal(t), ...fields }).annotations({ identifier: `JournalEntry(${t})`, description })

export const RenderStatus = Schema.Literal("submitting", "submitted", "complete", "failed", "detached")
export type RenderStatus = typeof RenderStatus.Type

/** What the journal knows of one render (by fingerprint). */
export const RenderRecord = Schema.Struct({
  status: RenderStatus,
  videoId: optional(videoId),
  intentAt: optional(described(Schema.Number, "When the last submit was announced (epoch ms): the start of the reconciliation window.")),
  submittedAt: optional(Schema.Number),
  job: Schema.String,
  error: optional(
    Schema.Struct({
      step: Schema.String,
      reason: Schema.String,
      code: optional(Schema.String),
      videoGone: optional(described(Schema.Boolean, "The provider said the video is of no use: render again.")),
      unsettledSubmit: optional(
        described(Schema.Boolean, "The last submit's outcome was never settled: its video may exist, reconcile before submitting.")
      )
    })
  ),
  possibleDuplicates: Schema.Number,
  renders: optional(
    described(Schema.Number, "Videos accepted for this render so far (a resubmission after FAILED is another): what was paid for.")
  ),
  shareLinkUrl: optional(shareLinkUrl)
}).annotations({ identifier: "RenderRecord" })
export type RenderRecord = typeof RenderRecord.Type

/** When a submit whose answer was lost may have created its video (epoch ms). */
export const SubmitWindow = Schema.Struct({ from: Schema.Number, until: Schema.Number }).annotations({
  identifier: "SubmitWindow",
  description: "When a submit whose answer was lost may have created its video (epoch ms)."
})
export type SubmitWindow = typeof SubmitWindow.Type

/** What the journal knows of one output on disk (by job id). */
export const OutputRecord = Schema.Struct({
  fp,
  videoId,
  sha256: Schema.String,
  size: Schema.Number,
  mtimeMs: Schema.Number
}).annotations({ identifier: "OutputRecord" })
export type OutputRecord = typeof OutputRecord.Type

/** The state as plain JSON, for a compaction snapshot. */
export const JournalSnapshot = Schema.Struct({
  renders: Schema.Record({ key: Schema.String, value: RenderRecord }),
  outputs: Schema.Record({ key: Schema.String, value: OutputRecord }),
  /** Absent in snapshots written before they were kept. */
  orphanWindows: optional(Schema.Array(SubmitWindow)),
  retiredVideos: optional(Schema.Array(Schema.String))
}).annotations({ identifier: "JournalSnapshot" })
export type JournalSnapshot = typeof JournalSnapshot.Type

export const JournalEntry = Schema.Union(
  entry("header", { version: Schema.Number, pipeline: Schema.String }, "The first line: the journal's format version and its pipeline."),
  entry("intent", { fp, job, at }, "Written (and synced) before a submit is sent: if no `submitted` follows, the outcome is unknown."),
  entry("submitted", { fp, job, videoId, at }, "The provider accepted the submit and answered with its video."),
  entry("notSubmitted", { fp, at }, "The submit certainly created nothing (refused before or by the provider): the intent is void."),
  entry("adopted", { fp, job, videoId, at }, "An unknown outcome resolved by finding the video in `GET /v1/videos`."),
  entry(
    "possibleDuplicate",
    {
      fp,
      job,
      at,
      reason: Schema.String,
      from: optional(Schema.Number),
      until: optional(Schema.Number)
    },
    "An unknown outcome that could not be matched: submitted again, and a second video may exist. `from`–`until`, when the lost submit could not be settled (the list unread, or videos that could not be told apart), is its window: a video created in it may be that second video, so no other job may adopt it, in this run or a later one."
  ),
  entry("complete", { fp, videoId, shareLinkUrl: optional(shareLinkUrl), at }, "The provider finished rendering the video."),
  entry(
    "failed",
    {
      fp,
      step: Schema.String,
      reason: Schema.String,
      code: optional(Schema.String),
      videoId: optional(videoId),
      videoGone: optional(
        described(
          Schema.Boolean,
          "The provider said `videoId` is of no use (it FAILED, was cancelled, or no longer exists): the next run renders again. Otherwise a known video is polled and downloaded again, never paid for twice. (Entries written before this field: a `code` meant FAILED.)"
        )
      ),
      at
    },
    "The render failed at `step`."
  ),
  entry("detached", { fp, videoId, at }, "Still rendering when the job's timeout passed: the next run picks it up."),
  entry(
    "downloaded",
    { job, fp, videoId, sha256: Schema.String, size: Schema.Number, mtimeMs: Schema.Number, at },
    "The output is on disk, with these digest, size and modification time."
  ),
  entry("snapshot", { state: JournalSnapshot }, "A compaction: the whole state folded so far, in place of the entries before it.")
).annotations({ identifier: "JournalEntry" })
export type JournalEntry = typeof JournalEntry.Type

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

export const emptyJournalState = (): JournalState => ({
  renders: new Map(),
  outputs: new Map(),
  orphanWindows: [],
  retiredVideos: new Set()
})

export const toSnapshot = (state: JournalState): JournalSnapshot => ({
  renders: Object.fromEntries(state.renders),
  outputs: Object.fromEntries(state.outputs),
  orphanWindows: state.orphanWindows,
  retiredVideos: [...state.retiredVideos]
})

const fresh = (job: string): RenderRecord => ({ status: "submitting", job, possibleDuplicates: 0 })

/** The record now about `videoId`: a share link belongs to the video it was given for, never to the next one. */
const aboutVideo = (r: RenderRecord, videoId: string): RenderRecord => {
  if (r.videoId === videoId || r.shareLinkUrl === undefined) return r
  const { shareLinkUrl: _stale, ...rest } = r
  return rest
}

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
      state.renders.set(entry.fp, {
        ...aboutVideo(r, entry.videoId),
        status: "submitted",
        videoId: entry.videoId,
        job: entry.job,
        submittedAt: entry.at,
        renders
      })
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
      state.renders.set(entry.fp, {
        ...aboutVideo(render(entry.fp, ""), entry.videoId),
        status: "complete",
        videoId: entry.videoId,
        ...(entry.shareLinkUrl !== undefined ? { shareLinkUrl: entry.shareLinkUrl } : {})
      })
      return
    case "failed": {
      const known = render(entry.fp, "")
      const { error: previous, ...r } = entry.videoId !== undefined ? aboutVideo(known, entry.videoId) : known
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
      state.renders.set(entry.fp, { ...aboutVideo(render(entry.fp, ""), entry.videoId), status: "detached", videoId: entry.videoId })
      return
    case "downloaded":
      state.renders.set(entry.fp, { ...aboutVideo(render(entry.fp, entry.job), entry.videoId), status: "complete", videoId: entry.videoId })
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
