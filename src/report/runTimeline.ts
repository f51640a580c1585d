/**
 * A run's events → its timeline: for each job, the spans of its steps (speech, submit, queued and
 * rendering at the provider, captions, overlays, download), the waits before a retry (a 429's
 * apart: the provider's quota) and the moments that matter (a retry, a failure, a detach); for
 * the run, when it was throttled and when the API was down. A fold, so a long run's events can be
 * streamed through it one at a time (`makeTimelineBuilder`); `runTimeline` takes them all at once.
 */
import type { JobStep, RunEvent, RunSummary } from "../runtime/events.ts"

/** What a job was doing over a span. `waiting`: queued in this run, nothing started yet (a slot, the base video of an overlay). */
export type SegmentKind =
  | "waiting"
  | "speech"
  | "submit"
  | "queued"
  | "rendering"
  | "captions"
  | "overlays"
  | "download"
  | "retry"
  | "quota"

export interface Segment {
  readonly kind: SegmentKind
  readonly startMs: number
  readonly endMs: number
  /** What it was, in words (the attempt, the video id, the reason of a retry). */
  readonly detail: string
}

export type MarkKind = "retry" | "quota" | "duplicate" | "failed" | "detached"

export interface Mark {
  readonly kind: MarkKind
  readonly atMs: number
  readonly detail: string
}

/** How the job's part of the run ended. `open`: the run ended (or was stopped) while it was at work. */
export type RowOutcome = "completed" | "failed" | "detached" | "open"

export interface TimelineRow {
  readonly job: string
  readonly set: string | undefined
  readonly outcome: RowOutcome
  readonly segments: ReadonlyArray<Segment>
  readonly marks: ReadonlyArray<Mark>
  readonly retries: number
}

export interface Interval {
  readonly startMs: number
  readonly endMs: number
  readonly detail: string
}

export interface RunTimeline {
  /** The run's first and last event (run.started and run.finished when it has them). */
  readonly startMs: number
  readonly endMs: number
  /** One row per job seen in the run, in the order they were first seen. */
  readonly rows: ReadonlyArray<TimelineRow>
  /** Spans when requests of some kind waited for the provider's quota (run.throttled), as reported. */
  readonly throttled: ReadonlyArray<Interval>
  /** Time under at least one throttle (overlapping ones counted once). */
  readonly throttledMs: number
  /** Waits of jobs for the quota (a 429 retried, `throttled: true`): how many, and their total. */
  readonly quotaWaits: { readonly count: number; readonly totalMs: number }
  /** Retries for other reasons (5xx, resets, timeouts). */
  readonly retries: number
  /** Spans when the API did not answer (run.waiting → run.resumed). */
  readonly outages: ReadonlyArray<Interval>
  readonly outageMs: number
  /** Submits retried after an unknown outcome (job.duplicateRisk). */
  readonly duplicateRisks: number
  readonly warnings: ReadonlyArray<string>
  readonly stopping: ReadonlyArray<{ readonly atMs: number; readonly reason: string }>
  /** The run.finished summary; absent when the run was killed before it could write one. */
  readonly summary: RunSummary | undefined
}

export interface TimelineOptions {
  /** Jobs whose voice is spoken (a `speech` stage): their time before the first submit is speech. */
  readonly spokenJobs?: ReadonlySet<string>
}

export interface TimelineBuilder {
  readonly add: (event: RunEvent) => void
  readonly result: () => RunTimeline
}

type Stage = "video" | "captions" | "overlays"

interface OpenSpan {
  kind: SegmentKind
  startMs: number
  detail: string
  /** A video just submitted: queued or rendering, as its first status will tell. */
  provisional: boolean
}

interface Track {
  readonly job: string
  set: string | undefined
  stage: Stage
  videoRendered: boolean
  submittedOnce: boolean
  open: OpenSpan | undefined
  outcome: RowOutcome
  retries: number
  readonly segments: Array<Segment>
  readonly marks: Array<Mark>
}

/** The union's length of intervals that may overlap. */
const coveredMs = (intervals: ReadonlyArray<Interval>): number => {
  const sorted = [...intervals].sort((a, b) => a.startMs - b.startMs)
  let total = 0
  let from = Number.NEGATIVE_INFINITY
  let to = Number.NEGATIVE_INFINITY
  for (const { startMs, endMs } of sorted) {
    if (startMs > to) {
      if (to > from) total += to - from
      from = startMs
      to = endMs
    } else to = Math.max(to, endMs)
  }
  if (to > from) total += to - from
  return total
}

const stepLabel: Readonly<Record<JobStep, string>> = {
  speech: "speech",
  submit: "submit",
  reconcile: "looking for a lost submit",
  captions: "captions",
  poll: "status check",
  overlay: "overlays",
  download: "download"
}

export const makeTimelineBuilder = (options: TimelineOptions = {}): TimelineBuilder => {
  const spoken = options.spokenJobs ?? new Set<string>()
  const tracks = new Map<string, Track>()
  const throttled: Array<Interval> = []
  const outages: Array<Interval> = []
  const warnings: Array<string> = []
  const stopping: Array<{ atMs: number; reason: string }> = []
  let outageSince: number | undefined
  let startMs: number | undefined
  let endMs: number | undefined
  let lastMs: number | undefined
  let summary: RunSummary | undefined
  let quotaWaits = 0
  let quotaWaitMs = 0
  let retries = 0
  let duplicateRisks = 0

  const track = (job: string): Track => {
    let t = tracks.get(job)
    if (t === undefined) {
      t = {
        job,
        set: undefined,
        stage: "video",
        videoRendered: false,
        submittedOnce: false,
        open: undefined,
        outcome: "open",
        retries: 0,
        segments: [],
        marks: []
      }
      tracks.set(job, t)
    }
    return t
  }

  /** Ends the open span; `speaking`: the job's own first submit (or a retry of its speech) ends it. */
  const close = (t: Track, atMs: number, speaking = false) => {
    const open = t.open
    t.open = undefined
    // A wait to retry ends where the next thing starts (a stop, an answer): spans never overlap.
    const last = t.segments.at(-1)
    if (last !== undefined && last.endMs > atMs) t.segments[t.segments.length - 1] = { ...last, endMs: Math.max(last.startMs, atMs) }
    if (open === undefined || atMs < open.startMs) return
    // The time before the first submit of a spoken job is its speech (an overlay variant that
    // waits for its leader's video never speaks: its wait stays a wait).
    const kind = open.kind === "waiting" && speaking && spoken.has(t.job) && !t.submittedOnce ? "speech" : open.kind
    const previous = t.segments.at(-1)
    // A span that goes on where the last one of its kind ended is one span.
    if (previous && previous.kind === kind && previous.endMs === open.startMs) {
      t.segments[t.segments.length - 1] = { ...previous, endMs: atMs, detail: open.detail }
    } else t.segments.push({ kind, startMs: open.startMs, endMs: atMs, detail: open.detail })
  }

  const openSpan = (t: Track, kind: SegmentKind, atMs: number, detail: string, provisional = false) => {
    close(t, atMs)
    t.open = { kind, startMs: atMs, detail, provisional }
  }

  /** The span a video at the provider is in: the stage's own for captions and overlays. */
  const providerKind = (t: Track, status: string | undefined): SegmentKind =>
    t.stage === "captions" ? "captions" : t.stage === "overlays" ? "overlays" : status === "QUEUED" ? "queued" : "rendering"

  /** What a step's retry goes back to once its wait is over. */
  const kindOfStep = (t: Track, step: JobStep): SegmentKind => {
    switch (step) {
      case "speech":
        return "speech"
      case "submit":
      case "reconcile":
        return t.stage === "captions" ? "captions" : "submit"
      case "captions":
        return "captions"
      case "overlay":
        return "overlays"
      case "download":
        return "download"
      case "poll":
        return t.open?.kind ?? providerKind(t, undefined)
    }
  }

  const finishJob = (t: Track, atMs: number, outcome: RowOutcome) => {
    close(t, atMs)
    t.outcome = outcome
  }

  const add = (event: RunEvent) => {
    const atMs = Date.parse(event.at)
    if (Number.isNaN(atMs)) return
    startMs ??= atMs
    lastMs = lastMs === undefined ? atMs : Math.max(lastMs, atMs)
    switch (event.type) {
      case "run.started":
        startMs = atMs
        return
      case "job.queued": {
        const t = track(event.job)
        t.set = event.set
        openSpan(
          t,
          "waiting",
          atMs,
          spoken.has(event.job) ? "text to speech (and waiting for a slot)" : "waiting for a slot or another job's video"
        )
        return
      }
      case "job.submitting": {
        const t = track(event.job)
        if (t.videoRendered) t.stage = "captions"
        const kind = t.stage === "captions" ? "captions" : "submit"
        close(t, atMs, true)
        openSpan(t, kind, atMs, `${kind === "captions" ? "captions submit" : "upload and submit"}, attempt ${event.attempt}`)
        t.submittedOnce = true
        return
      }
      case "job.submitted": {
        const t = track(event.job)
        const step = event.step ?? (t.videoRendered ? "captions" : "submit")
        t.stage = step === "captions" ? "captions" : step === "overlay" ? "overlays" : "video"
        const adopted = event.attempt === 0 ? " (found at the provider after a lost answer)" : ""
        openSpan(t, providerKind(t, undefined), atMs, `${event.videoId}${adopted}`, t.stage === "video")
        t.submittedOnce = true
        return
      }
      case "job.progress": {
        const t = track(event.job)
        const done = event.status === "COMPLETE" || event.status === "FAILED" || event.status === "CANCELLED"
        if (done) {
          close(t, atMs)
          return
        }
        const kind = providerKind(t, event.status)
        const detail = `${event.videoId}: ${event.status}${event.progress === null ? "" : ` ${event.progress}%`}`
        const open = t.open
        if (open?.provisional) {
          // The first status says what the time since the submit was.
          open.kind = kind
          open.provisional = false
        } else if (open === undefined || open.kind !== kind) openSpan(t, kind, atMs, detail)
        // The span says the latest status it saw.
        if (t.open) t.open.detail = detail
        return
      }
      case "job.rendered": {
        const t = track(event.job)
        close(t, atMs)
        if (t.stage === "video") t.videoRendered = true
        return
      }
      case "job.downloading": {
        const t = track(event.job)
        openSpan(t, "download", atMs, `${event.videoId}${event.resumeFrom > 0 ? `, resumed from byte ${event.resumeFrom}` : ""}`)
        return
      }
      case "job.completed": {
        const t = track(event.job)
        finishJob(t, atMs, "completed")
        return
      }
      case "job.retrying": {
        const t = track(event.job)
        const back = kindOfStep(t, event.step)
        const quota = event.throttled === true
        const kind = quota ? "quota" : "retry"
        const detail = quota
          ? `${stepLabel[event.step]}: the provider's quota (429), waited ${Math.round(event.delayMs)} ms`
          : `${stepLabel[event.step]} attempt ${event.attempt} failed: ${event.reason}; retried after ${Math.round(event.delayMs)} ms`
        close(t, atMs, event.step === "speech")
        t.segments.push({ kind, startMs: atMs, endMs: atMs + event.delayMs, detail })
        t.marks.push({ kind, atMs, detail })
        t.open = { kind: back, startMs: atMs + event.delayMs, detail: stepLabel[event.step], provisional: false }
        if (quota) {
          quotaWaits++
          quotaWaitMs += event.delayMs
        } else {
          retries++
          t.retries++
        }
        return
      }
      case "job.duplicateRisk": {
        duplicateRisks++
        track(event.job).marks.push({ kind: "duplicate", atMs, detail: `possible duplicate render: ${event.reason}` })
        return
      }
      case "job.failed": {
        const t = track(event.job)
        finishJob(t, atMs, "failed")
        const code = event.code === undefined ? "" : ` [${event.code}]`
        t.marks.push({ kind: "failed", atMs, detail: `${stepLabel[event.step]} failed${code}: ${event.reason}` })
        return
      }
      case "job.detached": {
        const t = track(event.job)
        finishJob(t, atMs, "detached")
        t.marks.push({ kind: "detached", atMs, detail: `still rendering at its deadline: ${event.videoId} (the next run picks it up)` })
        return
      }
      case "run.throttled":
        throttled.push({
          startMs: atMs,
          endMs: Math.max(atMs, event.untilMs),
          detail: `the provider's quota${event.step ? ` (${stepLabel[event.step]})` : ""}`
        })
        return
      case "run.waiting":
        outageSince ??= Math.min(atMs, event.sinceMs)
        return
      case "run.resumed":
        outages.push({ startMs: outageSince ?? atMs - event.downForMs, endMs: atMs, detail: "the API did not answer" })
        outageSince = undefined
        return
      case "run.warning":
        warnings.push(event.message)
        return
      case "run.stopping":
        stopping.push({ atMs, reason: event.reason })
        return
      case "run.finished":
        endMs = atMs
        summary = event.summary
        return
    }
  }

  const result = (): RunTimeline => {
    const start = startMs ?? 0
    const end = Math.max(endMs ?? lastMs ?? start, start)
    if (outageSince !== undefined)
      outages.push({ startMs: outageSince, endMs: end, detail: "the API did not answer (until the run ended)" })
    outageSince = undefined
    const rows = [...tracks.values()].map((t): TimelineRow => {
      // A job still at work when the run ended: its span ends there.
      if (t.open) close(t, end)
      const segments = t.segments
        .filter((s) => s.endMs > s.startMs || s.kind !== "waiting")
        .map((s) => ({ ...s, endMs: Math.min(s.endMs, end) }))
      return { job: t.job, set: t.set, outcome: t.outcome, segments, marks: t.marks, retries: t.retries }
    })
    return {
      startMs: start,
      endMs: end,
      rows,
      throttled,
      throttledMs: coveredMs(throttled),
      quotaWaits: { count: quotaWaits, totalMs: quotaWaitMs },
      retries,
      outages,
      outageMs: coveredMs(outages),
      duplicateRisks,
      warnings,
      stopping,
      summary
    }
  }

  return { add, result }
}

/** The timeline of a run's events, all at once. */
export const runTimeline = (events: Iterable<RunEvent>, options: TimelineOptions = {}): RunTimeline => {
  const builder = makeTimelineBuilder(options)
  for (const event of events) builder.add(event)
  return builder.result()
}
