/**
 * A download that fails (the output folder read-only, the disk full, every transfer cut short)
 * fails its job after the render was paid for. The video still exists at the provider: the next
 * run downloads it and sends no second POST /v1/videos. Through the real binary, against a
 * simulator that outlives the runs; its counters are the witness.
 */
import { rmSync, unlinkSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { answer, cutBody, type Decision, forward, forwardAll, htmlPage, isFileRequest, type Rule } from "../support/faultProxy.ts"
import {
  behindFaultProxy,
  contentGets,
  expectEachPaidOnce,
  expectExit,
  expectNoCrash,
  expectOutputsAreMp4,
  fillUp,
  journal,
  mountProblem,
  mountReadOnly,
  mountTmpfs,
  needsMounts,
  type OnSimulator,
  onSimulator,
  posts,
  temporaryFiles,
  unmount
} from "./support.ts"

/** The first run's download of `blocked` fails; the rerun (the fault gone) completes it without a POST. */
const failThenRerun = async (
  { c, sim, run }: OnSimulator,
  blocked: string,
  fault: { readonly reason: RegExp; readonly clear: () => void }
) => {
  const first = await run()
  expectExit(first, 1)
  expect(first.summary?.failed).toEqual([
    { job: blocked, step: "download", reason: expect.stringMatching(fault.reason), videoId: expect.stringMatching(/^video_/) }
  ])
  expect(first.summary?.completed).toEqual(c.outputs.filter((o) => o !== blocked))
  const videoId = first.summary?.failed[0]?.videoId
  // The journal keeps the video: the failure is not "the video is gone".
  const failedEntry = journal(c)
    .filter((e) => e.t === "failed")
    .at(-1)
  expect(failedEntry).toMatchObject({ step: "download", videoId })
  expect(failedEntry?.videoGone).toBeUndefined()
  const before = await sim.stats()
  expect(posts(before)).toBe(c.outputs.length)

  fault.clear()
  const second = await run()
  expectExit(second, 0)
  expect(second.summary?.completed).toEqual([blocked])
  const after = await sim.stats()
  // The witness: no second POST /v1/videos, the same video downloaded.
  expect(posts(after) - posts(before)).toBe(0)
  expect(contentGets(after) - contentGets(before)).toBeGreaterThanOrEqual(1)
  expect(second.events).toContainEqual(expect.objectContaining({ type: "job.completed", job: blocked, videoId }))
  expectEachPaidOnce(c, after)
  expectOutputsAreMp4(c)
  expect(temporaryFiles(c.root)).toEqual([])
}

/** What storage answers for a link it refuses, or for a file it does not have. */
const expiredLink = answer(403, "<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>", "application/xml")
const noSuchKey = answer(404, "<Error><Code>NoSuchKey</Code></Error>", "application/xml")

/** The first file request answered `decision`, every other passed on. */
const firstFileRequest = (decision: Decision): Rule => {
  let served = 0
  return (r) => (isFileRequest(r) && served++ === 0 ? decision : forward)
}

describe("a failed download is downloaded again by the next run, never paid again", () => {
  it.skipIf(mountProblem !== undefined)(needsMounts("the output folder is read-only (a read-only bind mount)"), async () => {
    const scene = await onSimulator(["locked/v0.mp4", "out/v1.mp4"])
    const locked = join(scene.c.root, "locked")
    mountReadOnly(locked)
    await failThenRerun(scene, "locked/v0.mp4", { reason: /read-only|EROFS/i, clear: () => unmount(locked) })
  })

  it.skipIf(mountProblem !== undefined)(needsMounts("the output folder's disk is full (a tiny tmpfs, filled up)"), async () => {
    const scene = await onSimulator(["small/v0.mp4", "out/v1.mp4"])
    const small = join(scene.c.root, "small")
    mountTmpfs(small, "64k")
    fillUp(small)
    await failThenRerun(scene, "small/v0.mp4", {
      reason: /no space|ENOSPC/i,
      clear: () => rmSync(join(small, "filler"))
    })
  })

  it("every transfer is cut short (few attempts): the job fails; with the file host healthy again, the rerun downloads it", async () => {
    const scene = await behindFaultProxy(["out/v0.mp4"], { policy: { attempts: 2 } })
    const { proxy } = scene
    // The file host promises the whole length and closes the connection halfway, every time.
    proxy.rule = (r) => (isFileRequest(r) ? cutBody((n) => n / 2) : forward)
    await failThenRerun(scene, "out/v0.mp4", {
      reason: /incomplete|cut|broke|bytes/i,
      clear: () => void (proxy.rule = forwardAll)
    })
    // Both runs' transfers went through the proxy's file origin, never to the simulator's directly.
    expect(proxy.log.filter((r) => r.origin === "files" && r.decision === "CutBody").length).toBeGreaterThanOrEqual(2)
  })

  it("the file host answers an HTML page instead of the video (no ftyp box): the job fails, the rerun downloads the real file", async () => {
    const scene = await behindFaultProxy(["out/v0.mp4", "out/v1.mp4"], { policy: { concurrency: 1 } })
    scene.proxy.rule = firstFileRequest(answer(200, htmlPage, "video/mp4"))
    await failThenRerun(scene, "out/v0.mp4", {
      reason: /not a valid MP4|ftyp/i,
      clear: () => void (scene.proxy.rule = forwardAll)
    })
  })

  it("the file host refuses the download link (403, as storage does for an expired link): a download failure, not a refused API key", async () => {
    const { c, sim, proxy, run } = await behindFaultProxy(["out/v0.mp4", "out/v1.mp4"], { policy: { concurrency: 1 } })
    proxy.rule = firstFileRequest(expiredLink)
    const first = await run()
    expectNoCrash(first)
    // The API key was never refused: the run must not stop as if it had been, nor blame the key.
    expect.soft(first.summary?.stopped, "the storage host's 403 is not the API refusing the key").toBeUndefined()
    expect.soft(first.stderr).not.toMatch(/MIRAGE_API_KEY|check the key/)
    expect.soft(first.summary?.completed, "the other job goes on").toContain("out/v1.mp4")
    proxy.rule = forwardAll
    const second = await run()
    expectExit(second, 0)
    // Each render paid once: the one whose link was refused is downloaded again, not submitted again.
    expectEachPaidOnce(c, await sim.stats())
    expectOutputsAreMp4(c)
  })

  it("the file host answers 404 for the file (storage, after the API's redirect): the video still exists at the provider; the rerun downloads it, no second POST", async () => {
    const { c, sim, proxy, run } = await behindFaultProxy(["out/v0.mp4", "out/v1.mp4"], { policy: { concurrency: 1 } })
    proxy.rule = firstFileRequest(noSuchKey)
    const first = await run()
    expectNoCrash(first)
    expect(first.summary?.completed).toContain("out/v1.mp4")
    const before = await sim.stats()
    expect(posts(before)).toBe(2)
    proxy.rule = forwardAll
    const second = await run()
    expectExit(second, 0)
    const after = await sim.stats()
    // GET /v1/videos/{id} says the video is COMPLETE all along: it is never paid for again.
    expect(posts(after) - posts(before), "a second POST for a video that exists").toBe(0)
    expectEachPaidOnce(c, after)
    expectOutputsAreMp4(c)
  })

  it("a deleted output is downloaded again; the file host answering 404 meanwhile does not make it render (and pay) again", async () => {
    const { c, sim, proxy, run } = await behindFaultProxy(["out/v0.mp4"])
    const done = await run()
    expect(done.code, done.stderr).toBe(0)
    unlinkSync(join(c.root, "out/v0.mp4"))
    const before = await sim.stats()
    proxy.rule = (r) => (isFileRequest(r) ? noSuchKey : forward)
    const hiccup = await run()
    expectNoCrash(hiccup)
    // The provider still has the video (its status says COMPLETE): nothing is submitted.
    expect(posts(await sim.stats()) - posts(before), "a second POST for a video that exists").toBe(0)
    proxy.rule = forwardAll
    const again = await run()
    expectExit(again, 0)
    expectOutputsAreMp4(c)
    // The video never left the provider: one submission.
    expectEachPaidOnce(c, await sim.stats())
  })
})
