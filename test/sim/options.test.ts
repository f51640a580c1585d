import { Effect, Exit } from "effect"
import { describe, expect, it } from "vitest"
import { publishedQuotas, uniformQuotas } from "../../src/mirage/quotas.ts"
import * as Simulator from "../../src/sim/Simulator.ts"
import { optionProblems, resolveOptions } from "../../src/sim/simulatorOptions.ts"

describe("simulator options", () => {
  it("defaults to the provider's strictness: published quotas, no Retry-After, a 2 s queue, Content-Length required", () => {
    expect(Simulator.defaultSimulatorOptions).toMatchObject({
      quotas: publishedQuotas,
      retryAfter: false,
      queuedMs: 2000,
      requireContentLength: true
    })
    expect(optionProblems(resolveOptions({}))).toEqual([])
  })

  it("needs every quota's count and window positive and finite, and queuedMs ≥ 0", () => {
    const problems = optionProblems(
      resolveOptions({
        quotas: {
          ...publishedQuotas,
          generation: { count: 0, perMs: 60_000 },
          captions: { count: Number.NaN, perMs: 60_000 },
          status: { count: 5, perMs: Number.POSITIVE_INFINITY },
          list: { count: 5, perMs: -1 }
        },
        queuedMs: -1
      })
    )
    expect(problems).toEqual([
      "queuedMs must be a number ≥ 0, got -1",
      "quotas.generation.count must be a number > 0, got 0",
      "quotas.captions.count must be a number > 0, got NaN",
      "quotas.status.perMs must be a number > 0, got Infinity",
      "quotas.list.perMs must be a number > 0, got -1"
    ])
    expect(optionProblems(resolveOptions({ queuedMs: Number.NaN }))).toEqual(["queuedMs must be a number ≥ 0, got NaN"])
    expect(optionProblems(resolveOptions({ quotas: uniformQuotas({ count: 1, perMs: 1 }), queuedMs: 0 }))).toEqual([])
  })

  it("refuses to start with them", async () => {
    const exit = await Effect.runPromiseExit(
      Effect.scoped(Simulator.make({ ffmpeg: false, quotas: uniformQuotas({ count: 0, perMs: 60_000 }) }))
    )
    expect(Exit.isFailure(exit)).toBe(true)
    if (Exit.isFailure(exit)) expect(String(exit.cause)).toContain("quotas.generation.count")
  })
})
