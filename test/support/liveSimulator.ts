/**
 * A simulator that outlives the runs of one test, as the provider would (for tests that drive the
 * real binary against it), and the fault proxy in front of it; both closed after the test.
 */
import { Effect, Exit, Scope } from "effect"
import { afterEach } from "vitest"
import * as Simulator from "../../src/sim/Simulator.ts"
import { type FaultProxy, forwardAll, type Rule, startFaultProxy } from "./faultProxy.ts"
import { roomySim } from "./testQuotas.ts"

export interface LiveSim {
  readonly baseUrl: string
  readonly fileBaseUrl: string
  readonly stats: () => Promise<Simulator.SimStats>
  readonly close: () => Promise<void>
}

const closers: Array<() => Promise<void>> = []

afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close()
})

/** A simulator (roomy quotas, no queue, no ffmpeg, instant renders unless told) closed after the test. */
export const startSim = async (options: Partial<Simulator.SimulatorOptions> = {}): Promise<LiveSim> => {
  const scope = Effect.runSync(Scope.make())
  const handle = await Effect.runPromise(Scope.extend(Simulator.make({ ...roomySim, ffmpeg: false, renderFactor: 0, ...options }), scope))
  let closed = false
  const close = async () => {
    if (closed) return
    closed = true
    await Effect.runPromise(Scope.close(scope, Exit.void))
  }
  closers.push(close)
  return { baseUrl: handle.baseUrl, fileBaseUrl: handle.fileBaseUrl, stats: () => Effect.runPromise(handle.stats), close }
}

/** The fault proxy in front of both of `sim`'s origins (passing everything until its rule is set), closed after the test. */
export const startProxy = async (sim: LiveSim, rule: Rule = forwardAll): Promise<FaultProxy> => {
  const proxy = await startFaultProxy({ api: sim.baseUrl, files: sim.fileBaseUrl }, rule)
  closers.push(proxy.close)
  return proxy
}
