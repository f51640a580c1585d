import type { RunEvent, RunEventType, RunSummary } from "../../../src/runtime/events.ts"

/** The ISO time `seconds` after the epoch (where TestClock starts). */
export const at = (seconds: number): string => new Date(seconds * 1000).toISOString()

export const summary: RunSummary = {
  jobs: 5,
  upToDate: [],
  completed: ["renders/a.mp4", "renders/e.mp4"],
  failed: [
    { job: "renders/c.mp4", step: "poll", reason: "the provider's render failed: audio unreadable", code: "INVALID_AUDIO", videoId: "video_c1" }
  ],
  inFlight: [{ job: "renders/b.mp4", videoId: "video_b2" }],
  skipped: ["renders/d.mp4"],
  unknownOutcome: [],
  possibleDuplicates: 1,
  interrupted: true,
  spentUsd: 2.7,
  elapsedMs: 95_000
}

/**
 * A run of five jobs: a completes; b's first submit is lost (duplicate risk) and it is left
 * rendering; c fails at the provider; d never starts; e shares a's render.
 */
export const sampleRun: ReadonlyArray<RunEvent> = [
  { type: "run.started", at: at(0), pipeline: "spring", jobs: 5, renders: 4, concurrency: 2, estimatedCostUsd: 3.6, minimumDurationMs: 0, generationQuota: "2 per minute" },
  { type: "job.queued", at: at(0), job: "renders/a.mp4", set: "hero", estimatedCostUsd: 0.9 },
  { type: "job.queued", at: at(0), job: "renders/b.mp4", set: "hero", estimatedCostUsd: 0.9 },
  { type: "job.queued", at: at(0), job: "renders/c.mp4", set: "locales", estimatedCostUsd: 0.9 },
  { type: "job.queued", at: at(0), job: "renders/d.mp4", set: "locales", estimatedCostUsd: 0.9 },
  { type: "job.queued", at: at(0), job: "renders/e.mp4", set: "locales", estimatedCostUsd: 0 },
  { type: "job.submitting", at: at(1), job: "renders/a.mp4", attempt: 1 },
  { type: "job.submitting", at: at(1), job: "renders/b.mp4", attempt: 1 },
  { type: "job.submitted", at: at(2), job: "renders/a.mp4", videoId: "video_a1", attempt: 1 },
  { type: "job.retrying", at: at(3), job: "renders/b.mp4", step: "submit", attempt: 1, delayMs: 4000, reason: "connection reset" },
  { type: "job.duplicateRisk", at: at(3), job: "renders/b.mp4", reason: "the submit may have reached the server" },
  { type: "job.progress", at: at(7), job: "renders/a.mp4", videoId: "video_a1", progress: 40, status: "PROCESSING" },
  { type: "job.submitting", at: at(7), job: "renders/b.mp4", attempt: 2 },
  { type: "job.submitted", at: at(8), job: "renders/b.mp4", videoId: "video_b2", attempt: 2 },
  { type: "job.rendered", at: at(20), job: "renders/a.mp4", videoId: "video_a1" },
  { type: "job.downloading", at: at(20), job: "renders/a.mp4", videoId: "video_a1", resumeFrom: 0 },
  { type: "job.completed", at: at(22), job: "renders/a.mp4", videoId: "video_a1", output: "renders/a.mp4", bytes: 2_400_000 },
  { type: "job.completed", at: at(22), job: "renders/e.mp4", videoId: "video_a1", output: "renders/e.mp4", bytes: 2_400_000, sharedWith: "renders/a.mp4" },
  { type: "job.submitting", at: at(22), job: "renders/c.mp4", attempt: 1 },
  { type: "job.submitted", at: at(23), job: "renders/c.mp4", videoId: "video_c1", attempt: 1 },
  { type: "job.progress", at: at(30), job: "renders/b.mp4", videoId: "video_b2", progress: 55, status: "PROCESSING" },
  { type: "run.throttled", at: at(31), untilMs: 36_000 },
  { type: "job.failed", at: at(40), job: "renders/c.mp4", step: "poll", reason: "the provider's render failed: audio unreadable", code: "INVALID_AUDIO", videoId: "video_c1" },
  { type: "run.stopping", at: at(50), reason: "interrupted (Ctrl-C): no new submits" },
  { type: "job.detached", at: at(95), job: "renders/b.mp4", videoId: "video_b2" },
  { type: "run.finished", at: at(95), summary }
]

/** One event of every type: the compiler insists on a new entry when a type is added. */
export const oneOfEach: { readonly [K in RunEventType]: Extract<RunEvent, { type: K }> } = {
  "run.started": { type: "run.started", at: at(0), pipeline: "spring", jobs: 2, renders: 2, concurrency: 4, estimatedCostUsd: 1.8, minimumDurationMs: 0, generationQuota: "2 per minute" },
  "job.queued": { type: "job.queued", at: at(0), job: "renders/x.mp4", set: "hero", estimatedCostUsd: 0.9 },
  "job.submitting": { type: "job.submitting", at: at(1), job: "renders/x.mp4", attempt: 1 },
  "job.submitted": { type: "job.submitted", at: at(2), job: "renders/x.mp4", videoId: "video_abc", attempt: 1 },
  "job.progress": { type: "job.progress", at: at(7), job: "renders/x.mp4", videoId: "video_abc", progress: 30, status: "PROCESSING" },
  "job.rendered": { type: "job.rendered", at: at(20), job: "renders/x.mp4", videoId: "video_abc" },
  "job.downloading": { type: "job.downloading", at: at(20), job: "renders/x.mp4", videoId: "video_abc", resumeFrom: 1_048_576 },
  "job.completed": { type: "job.completed", at: at(21), job: "renders/y.mp4", videoId: "video_abc", output: "renders/y.mp4", bytes: 2_400_000, sharedWith: "renders/x.mp4" },
  "job.retrying": { type: "job.retrying", at: at(3), job: "renders/x.mp4", step: "poll", attempt: 2, delayMs: 1500, reason: "HTTP 503 Service Unavailable" },
  "job.duplicateRisk": { type: "job.duplicateRisk", at: at(3), job: "renders/x.mp4", reason: "the submit timed out after it was sent" },
  "job.failed": { type: "job.failed", at: at(9), job: "renders/x.mp4", step: "poll", reason: "render failed", code: "RENDER_ERROR", videoId: "video_abc" },
  "job.detached": { type: "job.detached", at: at(1800), job: "renders/x.mp4", videoId: "video_abc" },
  "run.throttled": { type: "run.throttled", at: at(4), untilMs: 11_000 },
  "run.waiting": { type: "run.waiting", at: at(9), reason: "getVideo: connection refused (ECONNREFUSED)", sinceMs: 0, retryAtMs: 30_000 },
  "run.resumed": { type: "run.resumed", at: at(40), downForMs: 40_000 },
  "run.stopping": { type: "run.stopping", at: at(5), reason: "budget reached" },
  "run.warning": { type: "run.warning", at: at(5), message: "took over the runner lock of pid 12 on host-a, which is gone" },
  "run.finished": { type: "run.finished", at: at(95), summary }
}

export const allEventTypes = Object.keys(oneOfEach) as ReadonlyArray<RunEventType>
