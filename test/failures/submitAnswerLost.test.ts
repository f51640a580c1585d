/**
 * A submit answered 200 whose body cannot be decoded (a gateway's HTML page, JSON cut short, a
 * body the connection drops halfway) is an answer lost: the video exists at the provider. It is
 * never journaled as "not submitted"; it is reconciled through GET /v1/videos and adopted, in the
 * same run or, when the run ends first, in the next. The simulator's counters say one submission
 * per render. A real HTTP proxy on loopback spoils the answers; the simulator behind it outlives
 * the runs.
 */
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { htmlPage, isListRequest, isSubmitRequest, type Fault } from "./faultProxy.ts"
import { campaign, clapper, expectNoCrash, isMp4, journal, lists, rendersOf, posts, runCampaign, startProxy, startSim } from "./support.ts"

const spoiled: ReadonlyArray<readonly [string, Fault]> = [
  ["an HTML page with status 200", { _tag: "Replace", status: 200, body: () => htmlPage }],
  [
    "JSON cut short (status 200, a complete body of broken JSON)",
    { _tag: "Replace", status: 200, contentType: "application/json", body: (json) => json.slice(0, Math.floor(json.length / 2)) }
  ],
  ["a body the connection drops halfway", { _tag: "CutBody", keep: (n) => n / 2 }]
]

describe("a submit answered 200 with a body that cannot be decoded is reconciled, not paid twice", () => {
  it(`in the same run, one job per kind of spoiled answer: ${spoiled.map(([what]) => what).join("; ")}`, async () => {
    const c = campaign(["out/v0.mp4", "out/v1.mp4", "out/v2.mp4"], { concurrency: 1, attempts: 3 })
    const sim = await startSim()
    const proxy = await startProxy(sim)
    // One job at a time: the first submit's answer is spoiled the first way, the second's the second way, …
    let submits = 0
    proxy.rule = (r) => (isSubmitRequest(r) ? spoiled[submits++]?.[1] : undefined)

    const run = await runCampaign(c, proxy.baseUrl)
    expectNoCrash(run)
    expect(submits, "every submit's answer was spoiled").toBe(3)
    expect(run.code, run.stderr).toBe(0)
    expect(run.summary?.completed).toEqual(c.outputs)
    expect(run.summary?.possibleDuplicates).toBe(0)
    const stats = await sim.stats()
    // The witness: each render was created once, and found again through the list.
    for (const [i, job] of rendersOf(c).entries()) expect(stats.submissions[job.key], spoiled[i]?.[0]).toBe(1)
    expect(posts(stats)).toBe(3)
    expect(lists(stats)).toBeGreaterThanOrEqual(3)
    const entries = journal(c)
    expect(entries.filter((e) => e.t === "notSubmitted")).toEqual([])
    expect(entries.filter((e) => e.t === "possibleDuplicate")).toEqual([])
    expect(entries.filter((e) => e.t === "adopted")).toHaveLength(3)
    for (const output of c.outputs) expect(isMp4(join(c.root, output))).toBe(true)
  })

  it.each([spoiled[0]!])("in the next run, when the run is stopped (Ctrl-C) before it could reconcile: %s", async (_, fault) => {
    // A long backoff: the run is stopped while the job waits to reconcile its lost submit.
    const c = campaign(["out/v0.mp4"], { concurrency: 1, attempts: 3, initialDelay: "60s", maxDelay: "60s" })
    const sim = await startSim()
    const proxy = await startProxy(sim)
    proxy.rule = (r) => (isSubmitRequest(r) ? fault : undefined)
    let interrupted = false
    const first = await runCampaign(c, proxy.baseUrl, {
      onEvent: (event, signal) => {
        if (!interrupted && event.type === "job.retrying" && event.step === "submit") {
          interrupted = true
          signal("SIGINT")
        }
      }
    })
    expectNoCrash(first)
    expect(interrupted).toBe(true)
    expect(first.code, first.stderr).toBe(130)
    expect(posts(await sim.stats())).toBe(1)
    // Not journaled as "not submitted": the intent stays, to be reconciled.
    const entries = journal(c)
    expect(entries.filter((e) => e.t === "intent")).toHaveLength(1)
    expect(entries.filter((e) => e.t === "notSubmitted" || e.t === "submitted")).toEqual([])
    // The summary is true: a paid video may exist; the job was not "never started".
    expect.soft(first.summary?.skipped, "a job whose submit's answer was lost is not 'never started'").toEqual([])
    expect.soft(first.summary?.unknownOutcome).toEqual(["out/v0.mp4"])

    proxy.rule = () => undefined
    const before = await sim.stats()
    const second = await runCampaign(c, proxy.baseUrl)
    expectNoCrash(second)
    expect(second.code, second.stderr).toBe(0)
    expect(second.summary?.completed).toEqual(["out/v0.mp4"])
    expect(second.summary?.possibleDuplicates).toBe(0)
    const after = await sim.stats()
    expect(posts(after) - posts(before)).toBe(0)
    expect(lists(after) - lists(before)).toBeGreaterThanOrEqual(1)
    expect(journal(c).filter((e) => e.t === "adopted")).toHaveLength(1)
    const job = rendersOf(c)[0]!
    expect(after.submissions[job.key]).toBe(1)
    expect(isMp4(join(c.root, "out/v0.mp4"))).toBe(true)
  })

  it("in the next run, when the job failed with its last submit unsettled (the list unreadable too)", async () => {
    // Every answer of the create call and of the list is lost: the job cannot be settled this run.
    const c = campaign(["out/v0.mp4"], { concurrency: 1, attempts: 1 })
    const sim = await startSim()
    const proxy = await startProxy(sim)
    proxy.rule = (r) =>
      isSubmitRequest(r)
        ? { _tag: "Replace", status: 200, body: () => htmlPage }
        : isListRequest(r)
          ? { _tag: "Answer", status: 200, body: htmlPage }
          : undefined
    const first = await runCampaign(c, proxy.baseUrl)
    expectNoCrash(first)
    const firstPosts = posts(await sim.stats())
    expect(first.code, first.stderr).toBe(1)
    expect(first.summary?.failed).toEqual([expect.objectContaining({ job: "out/v0.mp4", step: "submit" })])
    expect(journal(c).filter((e) => e.t === "notSubmitted")).toEqual([])
    // What plan says: failed, and its submit is looked for before anything is sent again.
    const planned = await clapper(["plan", "campaign.yaml", "--json"], { cwd: c.root })
    expect(planned.code, planned.stderr).toBe(0)
    const state = (JSON.parse(planned.stdout) as { jobs: Array<{ state: string; stateDetail?: string }> }).jobs[0]
    expect(state?.state).toBe("failed")
    expect(state?.stateDetail).toMatch(/looks for its video before submitting/)

    proxy.rule = () => undefined
    const before = await sim.stats()
    const second = await runCampaign(c, proxy.baseUrl)
    expectNoCrash(second)
    expect(second.code, second.stderr).toBe(0)
    const after = await sim.stats()
    // The next run looked at the provider's list before anything else was sent.
    expect(lists(after) - lists(before)).toBeGreaterThanOrEqual(1)
    const job = rendersOf(c)[0]!
    // Every submission beyond the first is admitted in the journal as a possible duplicate.
    const admitted = journal(c).filter((e) => e.t === "possibleDuplicate").length
    expect(firstPosts).toBeGreaterThanOrEqual(1)
    expect(after.submissions[job.key]).toBeLessThanOrEqual(1 + admitted)
    expect(isMp4(join(c.root, "out/v0.mp4"))).toBe(true)
  })

  it("a submit answered 503 by a gateway (it never reached the provider): the list shows nothing, which settles its window; sent again once, counted as possible", async () => {
    const c = campaign(["out/v0.mp4"], { concurrency: 1, attempts: 3 })
    const sim = await startSim()
    const proxy = await startProxy(sim)
    let refused = 0
    proxy.rule = (r) => (isSubmitRequest(r) && refused++ === 0 ? { _tag: "Answer", status: 503, body: htmlPage } : undefined)
    const run = await runCampaign(c, proxy.baseUrl)
    expectNoCrash(run)
    expect(run.code, run.stderr).toBe(0)
    const stats = await sim.stats()
    const job = rendersOf(c)[0]!
    expect(stats.submissions[job.key]).toBe(1)
    // The list was read before the resend, and showed no video of the lost submit's window.
    expect(lists(stats)).toBeGreaterThanOrEqual(1)
    // A list with nothing unclaimed in the window settles the window (no orphan window is kept),
    // but the resend is still counted as possible: its video could be one that another
    // reconciliation made nobody's (test/runtime/run.test.ts has that case).
    const possible = journal(c).filter((e) => e.t === "possibleDuplicate")
    expect(run.summary?.possibleDuplicates).toBe(1)
    expect(possible).toHaveLength(1)
    expect(possible[0]).not.toHaveProperty("from")
  })
})
