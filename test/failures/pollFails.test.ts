/**
 * A poll that fails (the gateway in front of the API answers 502, or an HTML page with status
 * 200, for GET /v1/videos/{id}) fails its job with the video known. The next run polls that
 * video by its id and downloads it: no second POST /v1/videos. A real HTTP proxy on loopback
 * stands in for the gateway; the simulator behind it outlives both runs.
 */
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { htmlPage, isStatusRequest, type Fault } from "./faultProxy.ts"
import { campaign, expectNoCrash, isMp4, journal, rendersOf, posts, runCampaign, startProxy, startSim, statusPolls } from "./support.ts"

const faults: ReadonlyArray<readonly [string, Fault]> = [
  ["502 Bad Gateway", { _tag: "Answer", status: 502, body: htmlPage }],
  ["an HTML page with status 200", { _tag: "Answer", status: 200, body: htmlPage }]
]

describe("a failed poll: the rerun polls the known video, never submits it again", () => {
  it(`GET /v1/videos/{id} answered ${faults.map(([what]) => what).join(", and for another job ")}`, async () => {
    const c = campaign(["out/v0.mp4", "out/v1.mp4"], { concurrency: 1, attempts: 2 })
    const sim = await startSim({ renderFactor: 0 })
    const proxy = await startProxy(sim)
    // The first video's status is answered the first way, the second's the second way.
    const seen: Array<string> = []
    proxy.rule = (r) => {
      if (!isStatusRequest(r)) return undefined
      if (!seen.includes(r.path)) seen.push(r.path)
      return faults[seen.indexOf(r.path)]?.[1]
    }

    const first = await runCampaign(c, proxy.baseUrl)
    expectNoCrash(first)
    expect(first.code, first.stderr).toBe(1)
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

    proxy.rule = () => undefined
    const second = await runCampaign(c, proxy.baseUrl)
    expectNoCrash(second)
    expect(second.code, second.stderr).toBe(0)
    expect(second.summary?.completed).toEqual(c.outputs)
    const after = await sim.stats()
    expect(posts(after) - posts(before)).toBe(0)
    expect(statusPolls(after)).toBeGreaterThanOrEqual(2)
    // Each job completed with the very video the first run failed to poll.
    for (const failed of first.summary?.failed ?? []) {
      expect(second.events).toContainEqual(expect.objectContaining({ type: "job.completed", job: failed.job, videoId: failed.videoId }))
    }
    for (const job of rendersOf(c)) expect(after.submissions[job.key], job.id).toBe(1)
    for (const output of c.outputs) expect(isMp4(join(c.root, output))).toBe(true)
  })
})
