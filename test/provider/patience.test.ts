/**
 * What the run waits through without failing a job or paying twice: a video QUEUED for a long
 * time, a status Clapper does not know, the API unreachable for a while. The proxy in front of the
 * simulator rewrites the status answers poll by poll, or goes away (its listening socket closed,
 * kept-alive connections dropped) and comes back on the same port.
 */
import { Duration } from "effect"
import { describe, expect, it } from "vitest"
import type { RunEvent } from "../../src/runtime/events.ts"
import { fastSettings } from "../support/fastSettings.ts"
import { forward, forwardAll, isStatusRequest, isSubmitRequest, type Rule, rewriteJson } from "../support/faultProxy.ts"
import { campaign, eventsOf, expectCompleted, runThroughProxy } from "./support.ts"

/** The first `polls` answers to each video's status request say `status` (progress 0), then the simulator's own. */
const statusFor = (status: string, polls: number): Rule => {
  const seen = new Map<string, number>()
  return (r) => {
    if (!isStatusRequest(r)) return forward
    const n = (seen.get(r.path) ?? 0) + 1
    seen.set(r.path, n)
    return n > polls ? forward : rewriteJson((video) => ({ ...video, status, progress: 0 }))
  }
}

/** Short polls: 20 of them take a moment, not minutes. */
const quickPolls = { poll: { interval: Duration.millis(10), maxInterval: Duration.millis(30) } }

describe("a video QUEUED for a long time", () => {
  it("QUEUED for 20 polls, then COMPLETE: the job completes, no failure, the progress events show QUEUED", async () => {
    const file = campaign(2)
    const { summary, events, log } = await runThroughProxy(file, { renderFactor: 0 }, statusFor("QUEUED", 20), { settings: quickPolls })
    expectCompleted(summary, 2)
    expect(summary.inFlight).toEqual([])
    const progress = eventsOf(events, "job.progress")
    for (const job of summary.completed) {
      const statuses = progress.filter((e) => e.job === job).map((e) => e.status)
      expect(statuses).toEqual([...Array.from({ length: 20 }, () => "QUEUED"), "COMPLETE"])
    }
    expect(eventsOf(events, "run.warning")).toEqual([])
    expect(log.filter(isSubmitRequest)).toHaveLength(2)
  })
})

describe("a status Clapper does not know", () => {
  it("WARMING_UP for 10 polls, then COMPLETE: the job completes, and exactly one warning names the status", async () => {
    const file = campaign(3)
    const { summary, events, log } = await runThroughProxy(file, { renderFactor: 0 }, statusFor("WARMING_UP", 10), { settings: quickPolls })
    expectCompleted(summary, 3)
    expect(summary.inFlight).toEqual([])
    // Ten unknown answers per video, three videos: one warning for the run, naming the status.
    const warnings = eventsOf(events, "run.warning")
    expect(warnings).toHaveLength(1)
    expect(warnings[0]!.message).toContain("WARMING_UP")
    const progress = eventsOf(events, "job.progress")
    for (const job of summary.completed) {
      expect(progress.filter((e) => e.job === job).map((e) => e.status)).toEqual([
        ...Array.from({ length: 10 }, () => "WARMING_UP"),
        "COMPLETE"
      ])
    }
    // Never resubmitted for it.
    expect(log.filter(isSubmitRequest)).toHaveLength(3)
  })
})

const outageMs = 3500

describe("the API unreachable mid-run", () => {
  it("no job fails, the run says it waits and then that it resumed, every output completes, no extra render", async () => {
    // Four renders, two at a time: when the API goes away two are rendering and two not yet sent.
    const file = campaign(4, { extra: "run: { concurrency: 2 }\n" })
    let wentDown: number | undefined
    let cameBack: number | undefined
    let outage: Promise<void> | undefined
    const { summary, events, stats, log } = await runThroughProxy(file, { renderFactor: 2 }, forwardAll, {
      // Short retry delays, and a patience well above the outage.
      settings: { retry: { ...fastSettings.retry, attempts: 3, patience: Duration.minutes(1) } },
      onEventWithProxy: (event: RunEvent, proxy) => {
        if (event.type === "job.submitted" && outage === undefined) {
          outage = (async () => {
            await proxy.goDown()
            wentDown = Date.now()
            await new Promise((resolve) => setTimeout(resolve, outageMs))
            await proxy.comeBack()
            cameBack = Date.now()
          })()
        }
      }
    })
    await outage
    expect(wentDown).toBeDefined()
    expect(cameBack).toBeDefined()

    expectCompleted(summary, 4)
    expect(summary.inFlight).toEqual([])

    const waiting = eventsOf(events, "run.waiting")
    const resumed = eventsOf(events, "run.resumed")
    expect(waiting.length).toBeGreaterThanOrEqual(1)
    expect(resumed).toHaveLength(1)
    const firstWait = events.indexOf(waiting[0]!)
    const resumedAt = events.indexOf(resumed[0]!)
    expect(firstWait).toBeLessThan(resumedAt)
    // The wait began during the outage and the run resumed after it ended.
    expect(Date.parse(waiting[0]!.at)).toBeGreaterThanOrEqual(wentDown! - 5)
    expect(Date.parse(resumed[0]!.at)).toBeGreaterThanOrEqual(cameBack! - 5)
    expect(resumed[0]!.downForMs).toBeGreaterThanOrEqual(outageMs - 1000)
    // Nothing went through while the API was down.
    expect(log.filter((e) => e.at > wentDown! + 1 && e.at < cameBack! - 1)).toEqual([])

    // One render per output: the outage cost no extra submission.
    expect(Object.values(stats.submissions)).toEqual([1, 1, 1, 1])
    expect(summary.possibleDuplicates).toBe(0)
  }, 40_000)
})
