import { describe, expect, it } from "vitest"
import type { RunSummary } from "../../../src/runtime/events.ts"
import { displayStateOf } from "../../../src/cli/progress/displayState.ts"
import { formatSummary, summaryContextOf } from "../../../src/cli/progress/summary.ts"
import { keyRefused, rerun, sampleRun, summary, upToDateJobs } from "./fixtures.ts"

const clean: RunSummary = {
  jobs: 2,
  upToDate: [],
  completed: ["a.mp4", "b.mp4"],
  failed: [],
  inFlight: [],
  skipped: [],
  unknownOutcome: [],
  possibleDuplicates: 0,
  interrupted: false,
  spentUsd: 1.8,
  elapsedMs: 252_000
}

describe("the summary block", () => {
  it("lists the counts, each failure with its reason, each job in flight with its id, duplicates and spend", () => {
    expect(formatSummary(summary, summaryContextOf(displayStateOf(sampleRun)))).toEqual([
      "Interrupted after 1m35s: 2 done, 1 failed, 1 in flight, 1 skipped (5 jobs)",
      "Failed:",
      "  renders/c.mp4: the provider's render failed: audio unreadable (code INVALID_AUDIO; at poll; video video_c1)",
      "In flight (still rendering at the provider; the next run picks them up):",
      "  renders/b.mp4: still rendering, id video_b2",
      "Skipped (never started):",
      "  renders/d.mp4",
      "Possible duplicates: 1 submit was retried after an unknown outcome; a second paid video may exist at the provider.",
      // As `clapper status` counts it: the renders paid for, and a second render of each possible duplicate.
      "Spent: ~$2.70 (estimated) + up to ~$0.90 more in 1 possible duplicate",
      "Run the same command to resume: finished jobs are kept and renders in flight are picked up, not sent again."
    ])
    // Without the run's events, the duplicates' cost is not known.
    expect(formatSummary(summary)).toContain("Spent: ~$2.70 (estimated) + 1 possible duplicate of unknown cost")
  })

  it("is two lines when everything went well", () => {
    expect(formatSummary(clean)).toEqual([
      "Finished in 4m12s: 2 done, 0 failed, 0 in flight, 0 skipped (2 jobs)",
      "Spent: ~$1.80 (estimated)"
    ])
  })

  it("lists the jobs whose submit was cut short by the interruption", () => {
    const lines = formatSummary({ ...clean, completed: ["a.mp4"], unknownOutcome: ["b.mp4"], interrupted: true })
    expect(lines).toEqual([
      "Interrupted after 4m12s: 1 done, 0 failed, 0 in flight, 0 skipped, 1 unknown (2 jobs)",
      "Unknown (interrupted while the submit was unanswered; a paid video may or may not exist at the provider):",
      "  b.mp4",
      "Spent: ~$1.80 (estimated)",
      "Run the same command to resume: finished jobs are kept and renders in flight are picked up, not sent again."
    ])
  })

  it("says what a rerun resumed: the jobs picked up from the last run, and those already up to date", () => {
    const finished = rerun.at(-1)
    if (finished?.type !== "run.finished") throw new Error("the rerun ends with run.finished")
    expect(formatSummary(finished.summary, summaryContextOf(displayStateOf(rerun)))).toEqual([
      "Interrupted after 9s: 1 done, 0 failed, 2 in flight, 0 skipped, 17 already up to date (20 jobs)",
      "Resumed: 2 jobs picked up from the last run (not sent again)",
      "In flight (still rendering at the provider; the next run picks them up):",
      "  renders/a.mp4: still rendering, id video_a",
      "  renders/c.mp4: still rendering, id video_c",
      "Spent: ~$0.90 (estimated)",
      "Run the same command to resume: finished jobs are kept and renders in flight are picked up, not sent again."
    ])
  })

  it("is one line when every job was up to date", () => {
    expect(formatSummary({ ...clean, jobs: 17, completed: [], upToDate: upToDateJobs, spentUsd: 0 })).toEqual([
      "Nothing to do: 17 jobs up to date."
    ])
    expect(formatSummary({ ...clean, jobs: 1, completed: [], upToDate: ["a.mp4"], spentUsd: 0 })).toEqual([
      "Nothing to do: 1 job up to date."
    ])
    expect(formatSummary({ ...clean, jobs: 0, completed: [], spentUsd: 0 })).toEqual(["Nothing to do: no job to run."])
  })

  it("groups failures by reason and code: a count, the reason once, a few of the jobs", () => {
    const lines = formatSummary({
      ...clean,
      jobs: 64,
      completed: ["ok.mp4"],
      failed: [
        ...Array.from({ length: 60 }, (_, i) => ({
          job: `renders/lead-${i + 1}.mp4`,
          step: "submit" as const,
          reason: "HTTP 422: audio too long (max 300 s)"
        })),
        { job: "renders/x.mp4", step: "poll", reason: "the provider's render failed", code: "RENDER_ERROR", videoId: "v_x" },
        { job: "renders/y.mp4", step: "poll", reason: "the provider's render failed", code: "RENDER_ERROR", videoId: "v_y" },
        { job: "renders/z.mp4", step: "poll", reason: "the provider's render failed", code: "INVALID_AUDIO", videoId: "v_z" }
      ]
    })
    expect(lines).toEqual([
      "Finished in 4m12s: 1 done, 63 failed, 0 in flight, 0 skipped (64 jobs)",
      "Failed:",
      "  60 jobs failed: HTTP 422: audio too long (max 300 s) (at submit; e.g. renders/lead-1.mp4, renders/lead-2.mp4, renders/lead-3.mp4 and 57 more)",
      "  2 jobs failed: the provider's render failed (code RENDER_ERROR; at poll; renders/x.mp4, renders/y.mp4)",
      "  renders/z.mp4: the provider's render failed (code INVALID_AUDIO; at poll; video v_z)",
      "Spent: ~$1.80 (estimated)"
    ])
    const mixedSteps = formatSummary({
      ...clean,
      failed: [
        { job: "a.mp4", step: "submit", reason: "HTTP 500" },
        { job: "b.mp4", step: "poll", reason: "HTTP 500" }
      ]
    })
    expect(mixedSteps).toContain("  2 jobs failed: HTTP 500 (at submit, poll; a.mp4, b.mp4)")
  })

  it("leads with the message of a run stopped at once, instead of a Finished line", () => {
    expect(formatSummary(keyRefused)).toEqual([
      "Stopped after 12s: MIRAGE_API_KEY was refused by https://api.mirage.example (HTTP 401): check the key. Nothing more was sent.",
      "Jobs: 1 done, 0 failed, 1 in flight, 2 skipped (4 jobs)",
      "In flight (still rendering at the provider; the next run picks them up):",
      "  renders/b.mp4: still rendering, id video_b",
      "Skipped (never started):",
      "  renders/c.mp4",
      "  renders/d.mp4",
      "Spent: ~$1.80 (estimated)",
      "Once that is fixed, run the same command to resume: nothing finished is sent again."
    ])
    const unwritable = formatSummary({
      ...keyRefused,
      stopped: { reason: "state-unwritable", message: "cannot write .clapper/journal.ndjson: EACCES" }
    })
    expect(unwritable[0]).toBe("Stopped after 12s: cannot write .clapper/journal.ndjson: EACCES")
    expect(unwritable.join("\n")).not.toMatch(/Finished|Interrupted/)
  })

  it("lists failures without a code or video, counts duplicates in the plural, and caps the skipped list", () => {
    const lines = formatSummary({
      ...clean,
      failed: [{ job: "a.mp4", step: "submit", reason: "HTTP 422: image too large" }],
      skipped: Array.from({ length: 13 }, (_, i) => `s${i}.mp4`),
      possibleDuplicates: 3
    })
    expect(lines).toContain("  a.mp4: HTTP 422: image too large (at submit)")
    expect(lines).toContain("  s9.mp4")
    expect(lines).not.toContain("  s10.mp4")
    expect(lines).toContain("  … and 3 more")
    expect(lines).toContain(
      "Possible duplicates: 3 submits were retried after an unknown outcome; extra paid videos may exist at the provider."
    )
    expect(formatSummary({ ...clean, possibleDuplicates: 3 }, { duplicateCostUsd: 2.7 })).toContain(
      "Spent: ~$1.80 (estimated) + up to ~$2.70 more in 3 possible duplicates"
    )
  })
})
