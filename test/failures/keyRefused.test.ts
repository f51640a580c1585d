/**
 * The key refused in the middle of a run (401 to a submit, 403 to a status check: a key revoked
 * while the campaign runs): the run stops at once, exit 2, one message naming the variable that
 * holds the key, no more paid requests. The next run, with the key accepted again, pays for
 * nothing it already has: a video known before the refusal is polled, not submitted again.
 */
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { isStatusRequest, isSubmitRequest, type ProxiedRequest } from "./faultProxy.ts"
import { campaign, expectNoCrash, isMp4, rendersOf, posts, runCampaign, startProxy, startSim } from "./support.ts"

const refusal = (status: number) => ({
  _tag: "Answer" as const,
  status,
  contentType: "application/json",
  body: JSON.stringify({ detail: "Invalid API key" })
})

describe("the key refused mid-run stops the run; the next run pays nothing twice", () => {
  it.each([
    [
      "401 to the second submit",
      (r: ProxiedRequest, n: { submits: number; polls: number }) => isSubmitRequest(r) && ++n.submits === 2,
      401
    ],
    ["403 to a status check", (r: ProxiedRequest, n: { submits: number; polls: number }) => isStatusRequest(r) && ++n.polls === 2, 403]
  ] as const)("%s", async (_, refuseWhen, status) => {
    const c = campaign(["out/v0.mp4", "out/v1.mp4", "out/v2.mp4"], { concurrency: 1 })
    const sim = await startSim({ renderFactor: 0.2 })
    const proxy = await startProxy(sim)
    const seen = { submits: 0, polls: 0 }
    let refused = false
    proxy.rule = (r) => {
      if (refused) return refusal(status)
      if (refuseWhen(r, seen)) {
        refused = true
        return refusal(status)
      }
      return undefined
    }
    const first = await runCampaign(c, proxy.baseUrl)
    expectNoCrash(first)
    expect(first.code, first.stderr).toBe(2)
    const lines = first.stderr.split("\n").filter((l) => l.trim() !== "")
    expect(lines, first.stderr).toHaveLength(1)
    expect(lines[0]).toMatch(/MIRAGE_API_KEY/)
    expect(lines[0]).toMatch(new RegExp(`HTTP ${status}`))
    expect(first.summary?.stopped?.reason).toBe("key-refused")
    // Once refused, nothing more was attempted at the API.
    const afterRefusal = proxy.log.slice(proxy.log.findIndex((l) => l.fault === "Answer") + 1)
    expect(afterRefusal.filter((l) => l.origin === "api")).toEqual([])

    proxy.rule = () => undefined
    const second = await runCampaign(c, proxy.baseUrl)
    expectNoCrash(second)
    expect(second.code, second.stderr).toBe(0)
    const stats = await sim.stats()
    // Each render once: the video made before the refusal is polled again, not paid again.
    for (const job of rendersOf(c)) expect(stats.submissions[job.key], job.id).toBe(1)
    expect(posts(stats)).toBe(3)
    for (const output of c.outputs) expect(isMp4(join(c.root, output))).toBe(true)
  })
})
