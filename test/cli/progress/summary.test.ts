import { describe, expect, it } from "vitest"
import type { RunSummary } from "../../../src/runtime/events.ts"
import { formatSummary } from "../../../src/cli/progress/summary.ts"
import { summary } from "./fixtures.ts"

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
    expect(formatSummary(summary)).toEqual([
      "Interrupted after 1m35s: 2 done, 1 failed, 1 in flight, 1 skipped (5 jobs)",
      "Failed:",
      "  renders/c.mp4: the provider's render failed: audio unreadable (code INVALID_AUDIO; at poll; video video_c1)",
      "In flight (still rendering at the provider; the next run picks them up):",
      "  renders/b.mp4: still rendering, id video_b2",
      "Skipped (never started):",
      "  renders/d.mp4",
      "Possible duplicates: 1 submit was retried after an unknown outcome; a second paid video may exist at the provider.",
      "Spent: ~$2.70 (estimated)"
    ])
  })

  it("is two lines when everything went well", () => {
    expect(formatSummary(clean)).toEqual(["Finished in 4m12s: 2 done, 0 failed, 0 in flight, 0 skipped (2 jobs)", "Spent: ~$1.80 (estimated)"])
  })

  it("lists the jobs whose submit was cut short by the interruption", () => {
    const lines = formatSummary({ ...clean, completed: ["a.mp4"], unknownOutcome: ["b.mp4"], interrupted: true })
    expect(lines).toEqual([
      "Interrupted after 4m12s: 1 done, 0 failed, 0 in flight, 0 skipped, 1 unknown (2 jobs)",
      "Unknown (interrupted while the submit was unanswered; a paid video may or may not exist at the provider):",
      "  b.mp4",
      "Spent: ~$1.80 (estimated)"
    ])
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
    expect(lines).toContain("Possible duplicates: 3 submits were retried after an unknown outcome; extra paid videos may exist at the provider.")
  })
})
