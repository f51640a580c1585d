/**
 * The report's page from its model: self-contained, and no user text (job ids, file names, data
 * values, error messages, the pipeline's own description) can become markup.
 */
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import type { JobResult } from "../../src/app/jobResult.ts"
import type { RunEvent } from "../../src/runtime/events.ts"
import { escapeHtml, fileHref } from "../../src/report/html.ts"
import { reportModel, type GalleryMedia, type ReportInput } from "../../src/report/reportData.ts"
import { reportHtml } from "../../src/report/reportHtml.ts"
import { runTimeline } from "../../src/report/runTimeline.ts"

interface Texts {
  readonly name: string
  readonly description: string
  /** Job ids are `renders/a<text>.mp4`, `renders/b…`, `renders/c…`. */
  readonly jobs: readonly [string, string, string]
  readonly set: string
  readonly reason: string
  readonly code: string
  readonly command: string
  readonly warning: string
}

const at = (s: number) => new Date(Date.parse("2026-03-01T10:00:00Z") + s * 1000).toISOString()

/** A run of three jobs (one done, one failed after a retry and a quota wait, one missing), every text from `t`. */
const inputOf = (t: Texts): ReportInput => {
  const ids = [`renders/a${t.jobs[0]}.mp4`, `renders/b${t.jobs[1]}.mp4`, `renders/c${t.jobs[2]}.mp4`] as const
  const [done, failed, missing] = ids
  const events: ReadonlyArray<RunEvent> = [
    {
      type: "run.started",
      at: at(0),
      pipeline: t.name,
      jobs: 3,
      renders: 3,
      concurrency: 2,
      estimatedCostUsd: 2.7,
      minimumDurationMs: 0,
      generationQuota: "2 per minute"
    },
    ...ids.map((job): RunEvent => ({ type: "job.queued", job, at: at(0), set: t.set, estimatedCostUsd: 0.9 })),
    { type: "job.submitting", job: done, at: at(1), attempt: 1 },
    { type: "job.submitted", job: done, at: at(2), videoId: `video_${t.code}`, attempt: 1, step: "submit" },
    { type: "job.submitting", job: failed, at: at(2), attempt: 1 },
    { type: "job.retrying", job: failed, at: at(3), step: "submit", attempt: 1, delayMs: 2000, reason: t.reason, throttled: true },
    { type: "run.throttled", at: at(3), untilMs: Date.parse(at(5)), step: "submit" },
    { type: "job.retrying", job: failed, at: at(6), step: "submit", attempt: 2, delayMs: 1000, reason: t.reason },
    { type: "job.submitted", job: failed, at: at(8), videoId: "video_2", attempt: 2, step: "submit" },
    { type: "job.progress", job: done, at: at(9), videoId: "video_1", progress: 50, status: t.code },
    { type: "job.rendered", job: done, at: at(12), videoId: "video_1" },
    { type: "job.downloading", job: done, at: at(12), videoId: "video_1", resumeFrom: 0 },
    { type: "job.completed", job: done, at: at(13), videoId: "video_1", output: done, bytes: 10 },
    { type: "job.failed", job: failed, at: at(14), step: "poll", reason: t.reason, code: t.code, videoId: "video_2" },
    { type: "run.warning", at: at(14), message: t.warning }
  ]
  const result = (job: string, index: number, state: JobResult["state"]): JobResult => ({
    job,
    set: t.set,
    index,
    row: [[t.set, t.reason]],
    output: job,
    state,
    videoId: `video_${t.code}`,
    durationSeconds: 2,
    estimatedCostUsd: 0.9,
    attempts: 1,
    ...(state === "failed" ? { error: { step: "poll", reason: t.reason, code: t.code } } : {})
  })
  const media = new Map<string, GalleryMedia>([
    [done, { href: fileHref(`../${done}`), poster: { _tag: "NoFrame", reason: t.reason } }],
    [failed, { href: fileHref(`../${failed}`), poster: { _tag: "NoVideo" } }],
    [missing, { href: fileHref(`../${missing}`), poster: { _tag: "MissingFile" } }]
  ])
  return {
    pipeline: { name: t.name, description: t.description, file: `pipelines/${t.name}.yaml` },
    generatedAt: at(20),
    results: [result(done, 0, "done"), result(failed, 1, "failed"), result(missing, 2, "missing")],
    estimatedCostUsd: 2.7,
    spentUsd: 1.8,
    run: {
      record: { n: 1, startedAt: at(0), finishedAt: at(14), command: t.command, ended: "finished", who: t.warning },
      runCount: 1,
      timeline: runTimeline(events)
    },
    media,
    warnings: [t.warning]
  }
}

/** The same texts with every distinct value replaced by a plain word (empty stays empty, equal stays equal). */
const plain = (t: Texts): Texts => {
  const words = new Map<string, string>()
  const word = (s: string) => {
    if (s === "") return ""
    if (!words.has(s)) words.set(s, `w${words.size}`)
    return words.get(s)!
  }
  return {
    name: word(t.name),
    description: word(t.description),
    jobs: [word(t.jobs[0]), word(t.jobs[1]), word(t.jobs[2])],
    set: word(t.set),
    reason: word(t.reason),
    code: word(t.code),
    command: word(t.command),
    warning: word(t.warning)
  }
}

const markup = (page: string) => ({
  lt: page.split("<").length,
  gt: page.split(">").length,
  quotes: page.split('"').length,
  scripts: page.split("<script").length - 1
})

const hostile = '<img src=x onerror="alert(1)"></textarea></script><script>alert(2)</script>\'"&amp;'

describe("the report's page", () => {
  it("escapes user text everywhere it appears", () => {
    const page = reportHtml(
      reportModel(
        inputOf({
          name: "x<b>name</b>",
          description: hostile,
          jobs: [hostile, "", ""],
          set: hostile,
          reason: hostile,
          code: hostile,
          command: `clapper run ${hostile}`,
          warning: hostile
        })
      )
    )
    expect(page).not.toContain("<img src=x")
    expect(page).not.toContain("<script>alert(2)")
    expect(page).not.toContain("<b>name</b>")
    expect(page).toContain(escapeHtml(hostile))
    expect(markup(page).scripts).toBe(1)
  })

  it("has the same markup whatever the text (property): user text adds no <, >, quote nor script", () => {
    const text = fc.string({ unit: "binary", maxLength: 30 })
    const texts = fc.record({
      name: text,
      description: text,
      jobs: fc
        .tuple(text, text, text)
        .map(([a, b, c]): readonly [string, string, string] => [`renders/a${a}`, `renders/b${b}`, `renders/c${c}`]),
      set: text,
      reason: text,
      code: text,
      command: text,
      warning: text
    })
    fc.assert(
      fc.property(texts, (t) => {
        const page = reportHtml(reportModel(inputOf(t)))
        const reference = reportHtml(reportModel(inputOf(plain(t))))
        expect(markup(page)).toEqual(markup(reference))
      }),
      { numRuns: 200 }
    )
  })

  it("loads nothing from anywhere: the CSP allows no source but its own script's hash", () => {
    const page = reportHtml(reportModel(inputOf(plain(inputTexts))))
    const csp = /http-equiv="Content-Security-Policy" content="([^"]+)"/.exec(page)?.[1] ?? ""
    expect(csp).toContain("default-src 'none'")
    expect(csp).toMatch(/script-src 'sha256-[A-Za-z0-9+/=]+'/)
    expect(page).not.toMatch(/(src|href)="(https?:)?\/\//)
  })

  it("links files by relative paths that cannot turn into another URL", () => {
    expect(fileHref("../renders/a b#1?.mp4")).toBe("../renders/a%20b%231%3F.mp4")
    expect(fileHref("javascript:alert(1)")).toBe("javascript%3Aalert(1)")
  })

  it("says what to do for each cause of failure, with the provider's code", () => {
    const model = reportModel(inputOf({ ...inputTexts, code: "generation_failed", reason: "Video generation failed." }))
    expect(model.failures).toEqual([
      expect.objectContaining({ step: "poll", code: "generation_failed", count: 1, reasons: ["Video generation failed."] })
    ])
    expect(model.failures[0]!.advice).toContain("clapper run pipelines/outreach.yaml")
    expect(model.summary.quota).toEqual({ throttledMs: 2000, throttles: 1, jobWaits: 1, jobWaitMs: 2000 })
  })
})

const inputTexts: Texts = {
  name: "outreach",
  description: "d",
  jobs: ["", "", ""],
  set: "s",
  reason: "r",
  code: "c",
  command: "clapper run pipelines/outreach.yaml",
  warning: "w"
}
