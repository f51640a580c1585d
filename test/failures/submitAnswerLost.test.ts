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
import {
  answer,
  cutBody,
  type Decision,
  forward,
  forwardAll,
  htmlPage,
  htmlType,
  isListRequest,
  isSubmitRequest,
  replace
} from "../support/faultProxy.ts"
import {
  behindFaultProxy,
  clapper,
  expectExit,
  expectNoCrash,
  expectOutputsAreMp4,
  isMp4,
  journal,
  lists,
  posts,
  rendersOf
} from "./support.ts"

const spoiled: ReadonlyArray<readonly [string, Decision]> = [
  ["an HTML page with status 200", replace(() => htmlPage, { status: 200, contentType: htmlType })],
  [
    "JSON cut short (status 200, a complete body of broken JSON)",
    replace((json) => json.slice(0, Math.floor(json.length / 2)), { status: 200, contentType: "application/json" })
  ],
  ["a body the connection drops halfway", cutBody((n) => n / 2)]
]

describe("a submit answered 200 with a body that cannot be decoded is reconciled, not paid twice", () => {
  it(`in the same run, one job per kind of spoiled answer: ${spoiled.map(([what]) => what).join("; ")}`, async () => {
    const { c, sim, proxy, run } = await behindFaultProxy(["out/v0.mp4", "out/v1.mp4", "out/v2.mp4"], {
      policy: { concurrency: 1, attempts: 3 }
    })
    // One job at a time: the first submit's answer is spoiled the first way, the second's the second way, …
    let submits = 0
    proxy.rule = (r) => (isSubmitRequest(r) ? (spoiled[submits++]?.[1] ?? forward) : forward)

    const done = await run()
    expectNoCrash(done)
    expect(submits, "every submit's answer was spoiled").toBe(3)
    expectExit(done, 0)
    expect(done.summary?.completed).toEqual(c.outputs)
    expect(done.summary?.possibleDuplicates).toBe(0)
    const stats = await sim.stats()
    // The witness: each render was created once, and found again through the list.
    for (const [i, job] of rendersOf(c).entries()) expect(stats.submissions[job.key], spoiled[i]?.[0]).toBe(1)
    expect(posts(stats)).toBe(3)
    expect(lists(stats)).toBeGreaterThanOrEqual(3)
    const entries = journal(c)
    expect(entries.filter((e) => e.t === "notSubmitted")).toEqual([])
    expect(entries.filter((e) => e.t === "possibleDuplicate")).toEqual([])
    expect(entries.filter((e) => e.t === "adopted")).toHaveLength(3)
    expectOutputsAreMp4(c)
  })

  it.each([spoiled[0]!])("in the next run, when the run is stopped (Ctrl-C) before it could reconcile: %s", async (_, fault) => {
    // A long backoff: the run is stopped while the job waits to reconcile its lost submit.
    const { c, sim, proxy, run } = await behindFaultProxy(["out/v0.mp4"], {
      policy: { concurrency: 1, attempts: 3, initialDelay: "60s", maxDelay: "60s" }
    })
    proxy.rule = (r) => (isSubmitRequest(r) ? fault : forward)
    let interrupted = false
    const first = await run({
      onEvent: (event, signal) => {
        if (!interrupted && event.type === "job.retrying" && event.step === "submit") {
          interrupted = true
          signal("SIGINT")
        }
      }
    })
    expectNoCrash(first)
    expect(interrupted).toBe(true)
    expectExit(first, 130)
    expect(posts(await sim.stats())).toBe(1)
    // Not journaled as "not submitted": the intent stays, to be reconciled.
    const entries = journal(c)
    expect(entries.filter((e) => e.t === "intent")).toHaveLength(1)
    expect(entries.filter((e) => e.t === "notSubmitted" || e.t === "submitted")).toEqual([])
    // The summary is true: a paid video may exist; the job was not "never started".
    expect.soft(first.summary?.skipped, "a job whose submit's answer was lost is not 'never started'").toEqual([])
    expect.soft(first.summary?.unknownOutcome).toEqual(["out/v0.mp4"])

    proxy.rule = forwardAll
    const before = await sim.stats()
    const second = await run()
    expectExit(second, 0)
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
    const { c, sim, proxy, run } = await behindFaultProxy(["out/v0.mp4"], { policy: { concurrency: 1, attempts: 1 } })
    proxy.rule = (r) =>
      isSubmitRequest(r)
        ? replace(() => htmlPage, { status: 200, contentType: htmlType })
        : isListRequest(r)
          ? answer(200, htmlPage)
          : forward
    const first = await run()
    expectNoCrash(first)
    const firstPosts = posts(await sim.stats())
    expectExit(first, 1)
    expect(first.summary?.failed).toEqual([expect.objectContaining({ job: "out/v0.mp4", step: "submit" })])
    expect(journal(c).filter((e) => e.t === "notSubmitted")).toEqual([])
    // What plan says: failed, and its submit is looked for before anything is sent again.
    const planned = await clapper(["plan", "campaign.yaml", "--json"], { cwd: c.root })
    expect(planned.code, planned.stderr).toBe(0)
    const state = (JSON.parse(planned.stdout) as { jobs: Array<{ state: string; stateDetail?: string }> }).jobs[0]
    expect(state?.state).toBe("failed")
    expect(state?.stateDetail).toMatch(/looks for its video before submitting/)

    proxy.rule = forwardAll
    const before = await sim.stats()
    const second = await run()
    expectExit(second, 0)
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
    const { c, sim, proxy, run } = await behindFaultProxy(["out/v0.mp4"], { policy: { concurrency: 1, attempts: 3 } })
    proxy.rule = (r) => (isSubmitRequest(r) && r.nthOfRoute === 1 ? answer(503, htmlPage) : forward)
    const done = await run()
    expectExit(done, 0)
    const stats = await sim.stats()
    const job = rendersOf(c)[0]!
    expect(stats.submissions[job.key]).toBe(1)
    // The list was read before the resend, and showed no video of the lost submit's window.
    expect(lists(stats)).toBeGreaterThanOrEqual(1)
    // A list with nothing unclaimed in the window settles the window (no orphan window is kept),
    // but the resend is still counted as possible: its video could be one that another
    // reconciliation made nobody's (test/runtime/run.test.ts has that case).
    const possible = journal(c).filter((e) => e.t === "possibleDuplicate")
    expect(done.summary?.possibleDuplicates).toBe(1)
    expect(possible).toHaveLength(1)
    expect(possible[0]).not.toHaveProperty("from")
  })
})
