/**
 * The key refused in the middle of a run (401 to a submit, 403 to a status check: a key revoked
 * while the campaign runs): the run stops at once, exit 2, one message naming the variable that
 * holds the key, no more paid requests. The next run, with the key accepted again, pays for
 * nothing it already has: a video known before the refusal is polled, not submitted again.
 */
import { describe, expect, it } from "vitest"
import { answerJson, forward, forwardAll, isStatusRequest, isSubmitRequest, type ProxyRequest, type Rule } from "../support/faultProxy.ts"
import { behindFaultProxy, expectEachPaidOnce, expectExit, expectOutputsAreMp4, onlyErrorLine, posts } from "./support.ts"

/** Once `refuseWhen` says so, every request is refused with `status`, as for a revoked key. */
const revokedWhen = (refuseWhen: (r: ProxyRequest) => boolean, status: number): Rule => {
  let refused = false
  return (r) => {
    if (!refused && refuseWhen(r)) refused = true
    return refused ? answerJson(status, { detail: "Invalid API key" }) : forward
  }
}

describe("the key refused mid-run stops the run; the next run pays nothing twice", () => {
  it.each([
    ["401 to the second submit", (r: ProxyRequest) => isSubmitRequest(r) && r.nthOfRoute === 2, 401],
    ["403 to a status check", (r: ProxyRequest) => isStatusRequest(r) && r.nthOfRoute === 2, 403]
  ] as const)("%s", async (_, refuseWhen, status) => {
    const { c, sim, proxy, run } = await behindFaultProxy(["out/v0.mp4", "out/v1.mp4", "out/v2.mp4"], {
      policy: { concurrency: 1 },
      sim: { renderFactor: 0.2 }
    })
    proxy.rule = revokedWhen(refuseWhen, status)
    const first = await run()
    expectExit(first, 2)
    const line = onlyErrorLine(first)
    expect(line).toMatch(/MIRAGE_API_KEY/)
    expect(line).toMatch(new RegExp(`HTTP ${status}`))
    expect(first.summary?.stopped?.reason).toBe("key-refused")
    // Once refused, nothing more was attempted at the API.
    const afterRefusal = proxy.log.slice(proxy.log.findIndex((l) => l.decision === "Answer") + 1)
    expect(afterRefusal.filter((l) => l.origin === "api")).toEqual([])

    proxy.rule = forwardAll
    const second = await run()
    expectExit(second, 0)
    const stats = await sim.stats()
    // Each render once: the video made before the refusal is polled again, not paid again.
    expectEachPaidOnce(c, stats)
    expect(posts(stats)).toBe(3)
    expectOutputsAreMp4(c)
  })
})
