import type { RunEvent, RunEventType, RunSummary } from "../../../src/runtime/events.ts"

/** The ISO time `seconds` after the epoch (where TestClock starts). */
export const at = (seconds: number): string => new Date(seconds * 1000).toISOString()

export const summary: RunSummary = {
  jobs: 5,
  upToDate: [],
  completed: ["renders/a.mp4", "renders/e.mp4"],
  failed: [
    {
      job: "renders/c.mp4",
      step: "poll",
      reason: "the provider's render failed: audio unreadable",
      code: "INVALID_AUDIO",
      videoId: "video_c1"
    }
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
  {
    type: "run.started",
    at: at(0),
    pipeline: "spring",
    jobs: 5,
    renders: 4,
    concurrency: 2,
    estimatedCostUsd: 3.6,
    minimumDurationMs: 0,
    generationQuota: "2 per minute"
  },
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
  {
    type: "job.completed",
    at: at(22),
    job: "renders/e.mp4",
    videoId: "video_a1",
    output: "renders/e.mp4",
    bytes: 2_400_000,
    sharedWith: "renders/a.mp4"
  },
  { type: "job.submitting", at: at(22), job: "renders/c.mp4", attempt: 1 },
  { type: "job.submitted", at: at(23), job: "renders/c.mp4", videoId: "video_c1", attempt: 1 },
  { type: "job.progress", at: at(30), job: "renders/b.mp4", videoId: "video_b2", progress: 55, status: "PROCESSING" },
  { type: "run.throttled", at: at(31), untilMs: 36_000 },
  {
    type: "job.failed",
    at: at(40),
    job: "renders/c.mp4",
    step: "poll",
    reason: "the provider's render failed: audio unreadable",
    code: "INVALID_AUDIO",
    videoId: "video_c1"
  },
  { type: "run.stopping", at: at(50), reason: "interrupted (Ctrl-C): no new submits" },
  { type: "job.detached", at: at(95), job: "renders/b.mp4", videoId: "video_b2" },
  { type: "run.finished", at: at(95), summary }
]

/** One event of every type: the compiler insists on a new entry when a type is added. */
export const oneOfEach: { readonly [K in RunEventType]: Extract<RunEvent, { type: K }> } = {
  "run.started": {
    type: "run.started",
    at: at(0),
    pipeline: "spring",
    jobs: 2,
    renders: 2,
    concurrency: 4,
    estimatedCostUsd: 1.8,
    minimumDurationMs: 0,
    generationQuota: "2 per minute"
  },
  "job.queued": { type: "job.queued", at: at(0), job: "renders/x.mp4", set: "hero", estimatedCostUsd: 0.9 },
  "job.submitting": { type: "job.submitting", at: at(1), job: "renders/x.mp4", attempt: 1 },
  "job.submitted": { type: "job.submitted", at: at(2), job: "renders/x.mp4", videoId: "video_abc", attempt: 1 },
  "job.progress": { type: "job.progress", at: at(7), job: "renders/x.mp4", videoId: "video_abc", progress: 30, status: "PROCESSING" },
  "job.rendered": { type: "job.rendered", at: at(20), job: "renders/x.mp4", videoId: "video_abc" },
  "job.downloading": { type: "job.downloading", at: at(20), job: "renders/x.mp4", videoId: "video_abc", resumeFrom: 1_048_576 },
  "job.completed": {
    type: "job.completed",
    at: at(21),
    job: "renders/y.mp4",
    videoId: "video_abc",
    output: "renders/y.mp4",
    bytes: 2_400_000,
    sharedWith: "renders/x.mp4"
  },
  "job.retrying": {
    type: "job.retrying",
    at: at(3),
    job: "renders/x.mp4",
    step: "poll",
    attempt: 2,
    delayMs: 1500,
    reason: "HTTP 503 Service Unavailable"
  },
  "job.duplicateRisk": { type: "job.duplicateRisk", at: at(3), job: "renders/x.mp4", reason: "the submit timed out after it was sent" },
  "job.failed": {
    type: "job.failed",
    at: at(9),
    job: "renders/x.mp4",
    step: "poll",
    reason: "render failed",
    code: "RENDER_ERROR",
    videoId: "video_abc"
  },
  "job.detached": { type: "job.detached", at: at(1800), job: "renders/x.mp4", videoId: "video_abc" },
  "run.throttled": { type: "run.throttled", at: at(4), untilMs: 11_000 },
  "run.waiting": { type: "run.waiting", at: at(9), reason: "getVideo: connection refused (ECONNREFUSED)", sinceMs: 0, retryAtMs: 30_000 },
  "run.resumed": { type: "run.resumed", at: at(40), downForMs: 40_000 },
  "run.stopping": { type: "run.stopping", at: at(5), reason: "budget reached" },
  "run.warning": { type: "run.warning", at: at(5), message: "took over the runner lock of pid 12 on host-a, which is gone" },
  "run.finished": { type: "run.finished", at: at(95), summary }
}

export const allEventTypes = Object.keys(oneOfEach) as ReadonlyArray<RunEventType>

const started = (pipeline: string, jobs: number, estimatedCostUsd: number, renders = jobs): RunEvent => ({
  type: "run.started",
  at: at(0),
  pipeline,
  jobs,
  renders,
  concurrency: 4,
  estimatedCostUsd,
  minimumDurationMs: 0,
  generationQuota: "2 per minute"
})

/**
 * One captioned job from its speech to its file: the speech is retried, the video renders
 * (queued at the provider first), then its captioning does. Its estimate, $3.15, covers both.
 */
export const captionedRun: ReadonlyArray<RunEvent> = [
  started("outreach", 1, 3.15),
  { type: "job.queued", at: at(0), job: "out/ada.mp4", set: "leads", estimatedCostUsd: 3.15 },
  { type: "job.retrying", at: at(1), job: "out/ada.mp4", step: "speech", attempt: 1, delayMs: 3000, reason: "HTTP 503" },
  { type: "job.submitting", at: at(5), job: "out/ada.mp4", attempt: 1 },
  { type: "job.submitted", at: at(6), job: "out/ada.mp4", videoId: "video_1", attempt: 1, step: "submit" },
  { type: "job.progress", at: at(10), job: "out/ada.mp4", videoId: "video_1", progress: 0, status: "QUEUED" },
  { type: "job.progress", at: at(20), job: "out/ada.mp4", videoId: "video_1", progress: 42, status: "PROCESSING" },
  { type: "job.rendered", at: at(30), job: "out/ada.mp4", videoId: "video_1" },
  { type: "job.submitting", at: at(31), job: "out/ada.mp4", attempt: 1 },
  { type: "job.submitted", at: at(32), job: "out/ada.mp4", videoId: "video_2", attempt: 1, step: "captions" },
  { type: "job.progress", at: at(35), job: "out/ada.mp4", videoId: "video_2", progress: 0, status: "QUEUED" },
  { type: "job.progress", at: at(40), job: "out/ada.mp4", videoId: "video_2", progress: 60, status: "PROCESSING" },
  { type: "job.rendered", at: at(45), job: "out/ada.mp4", videoId: "video_2" },
  { type: "job.downloading", at: at(45), job: "out/ada.mp4", videoId: "video_2", resumeFrom: 0 },
  { type: "job.completed", at: at(47), job: "out/ada.mp4", videoId: "video_2", output: "out/ada.mp4", bytes: 1_000_000 }
]

/** An overlay variant of a base video rendered by another job: its batch submitted, queued, working. */
export const overlayEvents: ReadonlyArray<RunEvent> = [
  started("promo", 2, 1.8),
  { type: "job.queued", at: at(0), job: "promo/a.mp4", set: "promo", estimatedCostUsd: 0.9 },
  { type: "job.queued", at: at(0), job: "promo/b.mp4", set: "promo", estimatedCostUsd: 0.9 },
  { type: "job.submitted", at: at(40), job: "promo/b.mp4", videoId: "ov_1", attempt: 1, step: "overlay" },
  { type: "job.progress", at: at(45), job: "promo/b.mp4", videoId: "ov_1", progress: null, status: "QUEUED" },
  { type: "job.progress", at: at(50), job: "promo/b.mp4", videoId: "ov_1", progress: null, status: "PROCESSING" }
]

/** The 17 jobs of `rerun` done in an earlier run. */
export const upToDateJobs = Array.from({ length: 17 }, (_, i) => `renders/done-${String(i + 1).padStart(2, "0")}.mp4`)

/**
 * A rerun after Ctrl-C: of 20 jobs, 17 are up to date; a is still rendering at the provider (its
 * first event here is a poll), b was rendered and is only downloaded, c is submitted anew.
 */
export const rerun: ReadonlyArray<RunEvent> = [
  started("spring", 3, 0.9, 1),
  { type: "job.queued", at: at(0), job: "renders/a.mp4", set: "hero", estimatedCostUsd: 0.9 },
  { type: "job.queued", at: at(0), job: "renders/b.mp4", set: "hero", estimatedCostUsd: 0.9 },
  { type: "job.queued", at: at(0), job: "renders/c.mp4", set: "hero", estimatedCostUsd: 0.9 },
  { type: "job.progress", at: at(1), job: "renders/a.mp4", videoId: "video_a", progress: 70, status: "PROCESSING" },
  { type: "job.downloading", at: at(1), job: "renders/b.mp4", videoId: "video_b", resumeFrom: 0 },
  { type: "job.submitting", at: at(1), job: "renders/c.mp4", attempt: 1 },
  { type: "job.submitted", at: at(2), job: "renders/c.mp4", videoId: "video_c", attempt: 1, step: "submit" },
  { type: "job.progress", at: at(5), job: "renders/c.mp4", videoId: "video_c", progress: 10, status: "PROCESSING" },
  { type: "job.completed", at: at(6), job: "renders/b.mp4", videoId: "video_b", output: "renders/b.mp4", bytes: 2_000_000 },
  {
    type: "run.finished",
    at: at(9),
    summary: {
      jobs: 20,
      upToDate: upToDateJobs,
      completed: ["renders/b.mp4"],
      failed: [],
      inFlight: [
        { job: "renders/a.mp4", videoId: "video_a" },
        { job: "renders/c.mp4", videoId: "video_c" }
      ],
      skipped: [],
      unknownOutcome: [],
      possibleDuplicates: 0,
      interrupted: true,
      spentUsd: 0.9,
      elapsedMs: 9_000
    }
  }
]

/** A rerun with everything up to date: no job to do. */
export const upToDateRun: ReadonlyArray<RunEvent> = [
  started("spring", 0, 0, 0),
  {
    type: "run.finished",
    at: at(0.2),
    summary: {
      jobs: 17,
      upToDate: upToDateJobs,
      completed: [],
      failed: [],
      inFlight: [],
      skipped: [],
      unknownOutcome: [],
      possibleDuplicates: 0,
      interrupted: false,
      spentUsd: 0,
      elapsedMs: 200
    }
  }
]

/** A summary of a run stopped at once: the provider refused the key. */
export const keyRefused: RunSummary = {
  jobs: 4,
  upToDate: [],
  completed: ["renders/a.mp4"],
  failed: [],
  inFlight: [{ job: "renders/b.mp4", videoId: "video_b" }],
  skipped: ["renders/c.mp4", "renders/d.mp4"],
  unknownOutcome: [],
  possibleDuplicates: 0,
  interrupted: false,
  spentUsd: 1.8,
  elapsedMs: 12_000,
  stopped: {
    reason: "key-refused",
    message: "MIRAGE_API_KEY was refused by https://api.mirage.example (HTTP 401): check the key. Nothing more was sent."
  }
}
