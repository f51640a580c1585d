/**
 * What the provider (or a gateway in front of it) refuses, each as a test: a quota 429 without
 * `Retry-After`, a 411 for a body without `Content-Length`, a refused key. The faults come from a
 * real proxy on loopback in front of the real simulator; the simulator's counters and the proxy's
 * log say what reached the provider.
 */
import { describe, expect, it } from "vitest"
import { perMinute } from "../../src/mirage/quotas.ts"
import { answerJson, forward, forwardAll, isSubmitRequest, rateLimitBody } from "../support/faultProxy.ts"
import { fastSettings } from "../support/fastSettings.ts"
import { startSim } from "../support/liveSimulator.ts"
import { roomyQuotaFlags, runCli } from "../support/runCli.ts"
import { tempProject } from "../support/tempProject.ts"
import { roomyQuotas } from "../support/testQuotas.ts"
import { campaign, eventsOf, expectCompleted, runThroughProxy, total } from "./support.ts"

/** 120 generations a minute on both sides: the provider's 2, scaled 60× so a test takes seconds. */
const scaledQuotas = { ...roomyQuotas, generation: perMinute(120) }

describe("a quota 429 without Retry-After", () => {
  it("every second submit refused: every job completes, each render submitted once, no attempt spent on a 429", async () => {
    const file = campaign(4, { extra: "run: { concurrency: 2 }\n" })
    const { summary, events, stats, log } = await runThroughProxy(
      file,
      { renderFactor: 0, quotas: scaledQuotas },
      // The documented refusal, as the provider sends it: no Retry-After, no X-RateLimit-*.
      (r) => (isSubmitRequest(r) && r.nthOfRoute % 2 === 0 ? answerJson(429, rateLimitBody) : forward),
      // One attempt per step: a 429 counted as an attempt would fail its job.
      { settings: { quotas: scaledQuotas, retry: { ...fastSettings.retry, attempts: 1 } } }
    )
    expectCompleted(summary, 4)
    // Each render reached the simulator exactly once.
    expect(Object.values(stats.submissions)).toEqual([1, 1, 1, 1])
    expect(stats.requests["POST /v1/videos"]).toBe(4)
    // Every second POST was refused: 7 POSTs, the 4 odd ones accepted, the 3 even ones refused.
    const refusedByProxy = log.filter((e) => isSubmitRequest(e) && e.answeredBy === "proxy")
    expect(log.filter(isSubmitRequest)).toHaveLength(7)
    expect(refusedByProxy).toHaveLength(3)
    expect(refusedByProxy.every((e) => e.status === 429)).toBe(true)

    // One retry notice per refusal, each marked throttled, none of them spending the attempt.
    const submitRetries = eventsOf(events, "job.retrying").filter((e) => e.step === "submit")
    expect(submitRetries).toHaveLength(refusedByProxy.length)
    expect(submitRetries.every((e) => e.throttled === true)).toBe(true)
    expect(submitRetries.every((e) => e.attempt === 1)).toBe(true)
    expect(eventsOf(events, "job.submitted").map((e) => e.attempt)).toEqual([1, 1, 1, 1])
    // Without Retry-After the kind waits for the quota's next slot (500 ms × 1.02 at 120 a minute).
    expect(submitRetries.every((e) => e.delayMs > 0 && e.delayMs <= 2 * 510 + 50)).toBe(true)
    expect(summary.possibleDuplicates).toBe(0)
  }, 30_000)
})

describe("411 Length Required", () => {
  const lengthRequired = { detail: "Length Required: send the request body with a Content-Length header" }

  it("a gateway refusing bodies without Content-Length: the uploads carry one, every job completes", async () => {
    const file = campaign(3)
    const { summary, stats, log } = await runThroughProxy(file, { renderFactor: 0 }, (r) =>
      r.method === "POST" && r.headers["content-length"] === undefined ? answerJson(411, lengthRequired) : forward
    )
    expect(log.filter((e) => e.answeredBy === "proxy")).toEqual([])
    expect(
      log
        .filter((e) => e.method === "POST")
        .every((e) => e.headers["content-length"] !== undefined && e.headers["transfer-encoding"] === undefined)
    ).toBe(true)
    expectCompleted(summary, 3)
    expect(Object.values(stats.submissions)).toEqual([1, 1, 1])
  })

  it("a gateway answering 411 to every upload: each job fails at once with a clear reason naming Content-Length, one POST per job", async () => {
    const file = campaign(3)
    const { summary, events, stats, log } = await runThroughProxy(file, { renderFactor: 0 }, (r) =>
      isSubmitRequest(r) ? answerJson(411, lengthRequired) : forward
    )
    expect(summary.completed).toEqual([])
    expect(summary.failed).toHaveLength(3)
    for (const failure of summary.failed) {
      expect(failure.step).toBe("submit")
      expect(failure.reason).toMatch(/411/)
      expect(failure.reason).toContain("Content-Length")
    }
    // Not retried: one POST per job, and nothing reached the simulator.
    expect(log.filter(isSubmitRequest)).toHaveLength(3)
    expect(eventsOf(events, "job.retrying")).toEqual([])
    expect(stats.requests["POST /v1/videos"] ?? 0).toBe(0)
    expect(total(stats.submissions)).toBe(0)
    // Nothing was created, so nothing may be counted as a possible duplicate, and no spend remains.
    expect(summary.possibleDuplicates).toBe(0)
    expect(summary.spentUsd).toBe(0)
  })
})

describe("a refused key, through the real binary", () => {
  it("a 401 on the first submit: exit 2, one line on stderr naming MIRAGE_API_KEY and the base URL, one POST", async () => {
    const sim = await startSim({ apiKey: "right" })
    const p = tempProject()
    const file = campaign(3, { project: p })
    // Default concurrency (4): the first refusal must stop the submits that would follow it.
    const result = await runCli(["run", file, "--base-url", sim.baseUrl, ...roomyQuotaFlags], {
      cwd: p.root,
      env: { MIRAGE_API_KEY: "wrong" }
    })
    expect(result.code, result.stderr).toBe(2)
    const lines = result.stderr.split("\n").filter((line) => line.trim() !== "")
    expect(lines, result.stderr).toHaveLength(1)
    expect(lines[0]).toContain("MIRAGE_API_KEY")
    expect(lines[0]).toContain(sim.baseUrl)
    expect(lines[0]).not.toContain("wrong")
    const stats = await sim.stats()
    expect(stats.requests["POST /v1/videos"]).toBe(1)
    expect(total(stats.submissions)).toBe(0)
  }, 60_000)
})

describe("a refused key, in the run's summary", () => {
  it("a 401 on the first submit while other jobs wait their turn: the run stops, nothing counted as spent", async () => {
    const file = campaign(3)
    const { summary, stats } = await runThroughProxy(file, { apiKey: "right", renderFactor: 0 }, forwardAll, {
      apiKey: "wrong",
      // The default rate (5 a second, no burst) spaces the submits 200 ms apart: the first is
      // refused before the second goes, while the others wait their turn at the gate.
      settings: { requestsPerSecond: 5 }
    })
    expect(summary.stopped).toEqual({ reason: "key-refused", message: expect.stringContaining("was refused by") })
    expect(stats.requests["POST /v1/videos"]).toBe(1)
    expect(summary.skipped).toHaveLength(3)
    // Nothing was created at the provider: no render is paid for.
    expect(summary.spentUsd).toBe(0)
  })
})
