/**
 * A poll that fails (the gateway in front of the API answers 502, or an HTML page with status
 * 200, for GET /v1/videos/{id}) fails its job with the video known. The next run polls that
 * video by its id and downloads it: no second POST /v1/videos. A real HTTP proxy on loopback
 * stands in for the gateway; the simulator behind it outlives both runs.
 */
import { describe, expect, it } from "vitest"
import { answer, type Decision, forward, forwardAll, htmlPage, isStatusRequest } from "../support/faultProxy.ts"
import { behindFaultProxy, expectEachPaidOnce, expectExit, expectOutputsAreMp4, journal, posts, statusPolls } from "./support.ts"

const faults: ReadonlyArray<readonly [string, Decision]> = [
  ["502 Bad Gateway", answer(502, htmlPage)],
  ["an HTML page with status 200", answer(200, htmlPage)]
]

describe("a failed poll: the rerun polls the known video, never submits it again", () => {
  it(`GET /v1/videos/{id} answered ${faults.map(([what]) => what).join(", and for another job ")}`, async () => {
    const { c, sim, proxy, run } = await behindFaultProxy(["out/v0.mp4", "out/v1.mp4"], { policy: { concurrency: 1, attempts: 2 } })
    // The first video's status is answered the first way, the second's the second way.
    const seen: Array<string> = []
    proxy.rule = (r) => {
      if (!isStatusRequest(r)) return forward
      if (!seen.includes(r.path)) seen.push(r.path)
      return faults[seen.indexOf(r.path)]?.[1] ?? forward
    }

    const first = await run()
    expectExit(first, 1)
    expect(seen).toHaveLength(2)
    expect(first.summary?.completed).toEqual([])
    expect(first.summary?.failed).toEqual(
      c.outputs.map((job) => ({ job, step: "poll", reason: expect.any(String), videoId: expect.stringMatching(/^video_/) }))
    )
    // Recorded as a failure of a video that exists: not gone, not unsubmitted.
    const failedEntries = journal(c).filter((e) => e.t === "failed")
    expect(failedEntries).toHaveLength(2)
    for (const entry of failedEntries) {
      expect(entry).toMatchObject({ step: "poll", videoId: expect.stringMatching(/^video_/) })
      expect(entry.videoGone).toBeUndefined()
    }
    expect(journal(c).filter((e) => e.t === "notSubmitted")).toEqual([])
    const before = await sim.stats()
    expect(posts(before)).toBe(2)
    // Nothing of the status requests reached the simulator: the proxy answered them all.
    expect(statusPolls(before)).toBe(0)

    proxy.rule = forwardAll
    const second = await run()
    expectExit(second, 0)
    expect(second.summary?.completed).toEqual(c.outputs)
    const after = await sim.stats()
    expect(posts(after) - posts(before)).toBe(0)
    expect(statusPolls(after)).toBeGreaterThanOrEqual(2)
    // Each job completed with the very video the first run failed to poll.
    for (const failed of first.summary?.failed ?? []) {
      expect(second.events).toContainEqual(expect.objectContaining({ type: "job.completed", job: failed.job, videoId: failed.videoId }))
    }
    expectEachPaidOnce(c, after)
    expectOutputsAreMp4(c)
  })
})
