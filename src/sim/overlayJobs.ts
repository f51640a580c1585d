import { Effect, HashMap, Option, Ref } from "effect"

/**
 * Meta text overlay jobs: QUEUED, then PROCESSING, then COMPLETE with one result per text, over a
 * short time scaled by the render factor. Like video jobs, the state is computed from the clock.
 */
export type OverlayStatus = "QUEUED" | "PROCESSING" | "COMPLETE" | "FAILED" | "CANCELLED"

export interface OverlayStyle {
  readonly font: string | null
  readonly size: number | null
  readonly color: string | null
}

export interface OverlayItem {
  readonly text: string
  readonly style: OverlayStyle
}

export interface OverlayJob {
  readonly id: string
  readonly owner: string
  readonly createdAtMs: number
  readonly queuedMs: number
  readonly processingMs: number
  readonly items: ReadonlyArray<OverlayItem>
  /** File host URL of each item's output, by index. */
  readonly videoUrls: ReadonlyArray<string>
}

/** `MetaTextOverlay` as the API answers it. */
export interface OverlayView {
  readonly id: string
  readonly object: "text_overlay"
  readonly status: OverlayStatus
  readonly created_at: number
  readonly completed_at: number | null
  readonly results: ReadonlyArray<{
    readonly index: number
    readonly text: string
    readonly status: "COMPLETE" | "FAILED"
    readonly video_url: string | null
    readonly error: { readonly code: string; readonly message: string } | null
  }>
  readonly error: { readonly code: string; readonly message: string } | null
}

/** Per unit of render factor: a quarter second queued, three quarters processing. */
export const overlayQueuedMsPerFactor = 250
export const overlayProcessingMsPerFactor = 750

export const overlayViewAt = (job: OverlayJob, nowMs: number): OverlayView => {
  const elapsed = nowMs - job.createdAtMs
  const base = {
    id: job.id,
    object: "text_overlay" as const,
    created_at: Math.floor(job.createdAtMs / 1000),
    error: null
  }
  if (elapsed >= job.queuedMs + job.processingMs) {
    return {
      ...base,
      status: "COMPLETE",
      completed_at: Math.floor((job.createdAtMs + job.queuedMs + job.processingMs) / 1000),
      results: job.items.map((item, index) => ({
        index,
        text: item.text,
        status: "COMPLETE" as const,
        video_url: job.videoUrls[index] ?? null,
        error: null
      }))
    }
  }
  return { ...base, status: elapsed >= job.queuedMs ? "PROCESSING" : "QUEUED", completed_at: null, results: [] }
}

/** The job as it is answered on creation: QUEUED, no results yet. */
export const overlayQueuedView = (job: OverlayJob): OverlayView => ({
  id: job.id,
  object: "text_overlay",
  status: "QUEUED",
  created_at: Math.floor(job.createdAtMs / 1000),
  completed_at: null,
  results: [],
  error: null
})

export interface OverlayJobStore {
  readonly add: (job: OverlayJob) => Effect.Effect<void>
  readonly get: (id: string, owner: string) => Effect.Effect<Option.Option<OverlayJob>>
}

export const makeOverlayJobStore: Effect.Effect<OverlayJobStore> = Effect.map(Ref.make(HashMap.empty<string, OverlayJob>()), (jobs) => ({
  add: (job) => Ref.update(jobs, HashMap.set(job.id, job)),
  get: (id, owner) => Effect.map(Ref.get(jobs), (map) => Option.filter(HashMap.get(map, id), (job) => job.owner === owner))
}))
