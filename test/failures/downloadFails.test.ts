/**
 * A download that fails (the output folder read-only, the disk full, every transfer cut short)
 * fails its job after the render was paid for. The video still exists at the provider: the next
 * run downloads it and sends no second POST /v1/videos. Through the real binary, against a
 * simulator that outlives the runs; its counters are the witness.
 */
import { rmSync, unlinkSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { htmlPage, isFileRequest } from "./faultProxy.ts"
import {
  campaign,
  contentGets,
  expectNoCrash,
  fillUp,
  isMp4,
  journal,
  mountProblem,
  mountReadOnly,
  mountTmpfs,
  needsMounts,
  posts,
  rendersOf,
  runCampaign,
  startProxy,
  startSim,
  temporaryFiles,
  unmount,
  type Campaign,
  type LiveSim
} from "./support.ts"

/** The first run's download of `blocked` fails; the rerun (the fault gone) completes it without a POST. */
const failThenRerun = async (
  c: Campaign,
  sim: LiveSim,
  baseUrl: string,
  blocked: string,
  fault: { readonly reason: RegExp; readonly clear: () => void }
) => {
  const first = await runCampaign(c, baseUrl)
  expectNoCrash(first)
  expect(first.code, first.stderr).toBe(1)
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
  const second = await runCampaign(c, baseUrl)
  expectNoCrash(second)
  expect(second.code, second.stderr).toBe(0)
  expect(second.summary?.completed).toEqual([blocked])
  const after = await sim.stats()
  // The witness: no second POST /v1/videos, the same video downloaded.
  expect(posts(after) - posts(before)).toBe(0)
  expect(contentGets(after) - contentGets(before)).toBeGreaterThanOrEqual(1)
  expect(second.events).toContainEqual(expect.objectContaining({ type: "job.completed", job: blocked, videoId }))
  for (const job of rendersOf(c)) expect(after.submissions[job.key], job.id).toBe(1)
  for (const output of c.outputs) expect(isMp4(join(c.root, output)), output).toBe(true)
  expect(temporaryFiles(c.root)).toEqual([])
}

describe("a failed download is downloaded again by the next run, never paid again", () => {
  it.skipIf(mountProblem !== undefined)(needsMounts("the output folder is read-only (a read-only bind mount)"), async () => {
    const c = campaign(["locked/v0.mp4", "out/v1.mp4"])
    const sim = await startSim()
    const locked = join(c.root, "locked")
    mountReadOnly(locked)
    await failThenRerun(c, sim, sim.baseUrl, "locked/v0.mp4", { reason: /read-only|EROFS/i, clear: () => unmount(locked) })
  })

  it.skipIf(mountProblem !== undefined)(needsMounts("the output folder's disk is full (a tiny tmpfs, filled up)"), async () => {
    const c = campaign(["small/v0.mp4", "out/v1.mp4"])
    const sim = await startSim()
    const small = join(c.root, "small")
    mountTmpfs(small, "64k")
    fillUp(small)
    await failThenRerun(c, sim, sim.baseUrl, "small/v0.mp4", {
      reason: /no space|ENOSPC/i,
      clear: () => rmSync(join(small, "filler"))
    })
  })

  it("every transfer is cut short (few attempts): the job fails; with the file host healthy again, the rerun downloads it", async () => {
    const c = campaign(["out/v0.mp4"], { attempts: 2 })
    const sim = await startSim()
    const proxy = await startProxy(sim)
    // The file host promises the whole length and closes the connection halfway, every time.
    proxy.rule = (r) => (isFileRequest(r) ? { _tag: "CutBody", keep: (n) => n / 2 } : undefined)
    await failThenRerun(c, sim, proxy.baseUrl, "out/v0.mp4", {
      reason: /incomplete|cut|broke|bytes/i,
      clear: () => void (proxy.rule = () => undefined)
    })
    // Both runs' transfers went through the proxy's file origin, never to the simulator's directly.
    expect(proxy.log.filter((r) => r.origin === "files" && r.fault === "CutBody").length).toBeGreaterThanOrEqual(2)
  })

  it("the file host answers an HTML page instead of the video (no ftyp box): the job fails, the rerun downloads the real file", async () => {
    const c = campaign(["out/v0.mp4", "out/v1.mp4"], { concurrency: 1 })
    const sim = await startSim()
    const proxy = await startProxy(sim)
    let served = 0
    proxy.rule = (r) =>
      isFileRequest(r) && served++ === 0 ? { _tag: "Answer", status: 200, contentType: "video/mp4", body: htmlPage } : undefined
    await failThenRerun(c, sim, proxy.baseUrl, "out/v0.mp4", {
      reason: /not a valid MP4|ftyp/i,
      clear: () => void (proxy.rule = () => undefined)
    })
  })

  it("the file host refuses the download link (403, as storage does for an expired link): a download failure, not a refused API key", async () => {
    const c = campaign(["out/v0.mp4", "out/v1.mp4"], { concurrency: 1 })
    const sim = await startSim()
    const proxy = await startProxy(sim)
    let served = 0
    proxy.rule = (r) =>
      isFileRequest(r) && served++ === 0
        ? {
            _tag: "Answer",
            status: 403,
            contentType: "application/xml",
            body: "<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>"
          }
        : undefined
    const first = await runCampaign(c, proxy.baseUrl)
    expectNoCrash(first)
    // The API key was never refused: the run must not stop as if it had been, nor blame the key.
    expect.soft(first.summary?.stopped, "the storage host's 403 is not the API refusing the key").toBeUndefined()
    expect.soft(first.stderr).not.toMatch(/MIRAGE_API_KEY|check the key/)
    expect.soft(first.summary?.completed, "the other job goes on").toContain("out/v1.mp4")
    proxy.rule = () => undefined
    const second = await runCampaign(c, proxy.baseUrl)
    expectNoCrash(second)
    expect(second.code, second.stderr).toBe(0)
    // Each render paid once: the one whose link was refused is downloaded again, not submitted again.
    const after = await sim.stats()
    for (const job of rendersOf(c)) expect(after.submissions[job.key], job.id).toBe(1)
    for (const output of c.outputs) expect(isMp4(join(c.root, output)), output).toBe(true)
  })

  it("the file host answers 404 for the file (storage, after the API's redirect): the video still exists at the provider; the rerun downloads it, no second POST", async () => {
    const c = campaign(["out/v0.mp4", "out/v1.mp4"], { concurrency: 1 })
    const sim = await startSim()
    const proxy = await startProxy(sim)
    let served = 0
    proxy.rule = (r) =>
      isFileRequest(r) && served++ === 0
        ? { _tag: "Answer", status: 404, contentType: "application/xml", body: "<Error><Code>NoSuchKey</Code></Error>" }
        : undefined
    const first = await runCampaign(c, proxy.baseUrl)
    expectNoCrash(first)
    expect(first.summary?.completed).toContain("out/v1.mp4")
    const before = await sim.stats()
    expect(posts(before)).toBe(2)
    proxy.rule = () => undefined
    const second = await runCampaign(c, proxy.baseUrl)
    expectNoCrash(second)
    expect(second.code, second.stderr).toBe(0)
    const after = await sim.stats()
    // GET /v1/videos/{id} says the video is COMPLETE all along: it is never paid for again.
    expect(posts(after) - posts(before), "a second POST for a video that exists").toBe(0)
    for (const job of rendersOf(c)) expect(after.submissions[job.key], job.id).toBe(1)
    for (const output of c.outputs) expect(isMp4(join(c.root, output)), output).toBe(true)
  })

  it("a deleted output is downloaded again; the file host answering 404 meanwhile does not make it render (and pay) again", async () => {
    const c = campaign(["out/v0.mp4"])
    const sim = await startSim()
    const proxy = await startProxy(sim)
    const done = await runCampaign(c, proxy.baseUrl)
    expect(done.code, done.stderr).toBe(0)
    unlinkSync(join(c.root, "out/v0.mp4"))
    const before = await sim.stats()
    proxy.rule = (r) =>
      isFileRequest(r)
        ? { _tag: "Answer", status: 404, contentType: "application/xml", body: "<Error><Code>NoSuchKey</Code></Error>" }
        : undefined
    const hiccup = await runCampaign(c, proxy.baseUrl)
    expectNoCrash(hiccup)
    // The provider still has the video (its status says COMPLETE): nothing is submitted.
    expect(posts(await sim.stats()) - posts(before), "a second POST for a video that exists").toBe(0)
    proxy.rule = () => undefined
    const again = await runCampaign(c, proxy.baseUrl)
    expectNoCrash(again)
    expect(again.code, again.stderr).toBe(0)
    expect(isMp4(join(c.root, "out/v0.mp4"))).toBe(true)
    const job = rendersOf(c)[0]!
    expect((await sim.stats()).submissions[job.key], "the video never left the provider: one submission").toBe(1)
  })
})
