/** The same selectors from the library: `runPipeline(file, { select })` and its Promise twin. */
import { NodeContext } from "@effect/platform-node"
import { Effect, Either } from "effect"
import { describe, expect, it } from "vitest"
import { runPipeline } from "../../src/app/runPipeline.ts"
import { runPipelinePromise } from "../../src/index.ts"
import { loadPipeline } from "../../src/pipeline/load.ts"
import { planPipeline } from "../../src/plan/plan.ts"
import { readSelectedState } from "../../src/plan/planState.ts"
import { SelectionInvalid } from "../../src/plan/selection.ts"
import { fastSettings } from "../support/fastSettings.ts"
import { tempProject } from "../support/tempProject.ts"
import { roomySim } from "../support/testQuotas.ts"
import { lockedOutputs, outputsOnDisk, writeCampaign } from "./support.ts"

const simulator = { _tag: "Simulator", options: { ...roomySim, ffmpeg: false, renderFactor: 0 } } as const

describe("select, from the library", () => {
  it("runPipeline with a selection runs only it; the plan state of the same selection says what is left", async () => {
    const p = tempProject()
    const file = writeCampaign(p)
    const summary = await Effect.runPromise(
      runPipeline(file, { backend: simulator, baseSettings: fastSettings, select: { sets: ["people"], limit: 2 } }).pipe(
        Effect.provide(NodeContext.layer)
      )
    )
    expect(summary.jobs).toBe(2)
    expect(summary.completed).toEqual(["out/people/p1.mp4", "out/people/p2.mp4"])
    expect(outputsOnDisk(p)).toEqual(["out/people/p1.mp4", "out/people/p2.mp4"])
    expect(lockedOutputs(p)).toEqual(["out/people/p1.mp4", "out/people/p2.mp4"])

    const selected = await Effect.runPromise(
      Effect.gen(function* () {
        const pipeline = yield* loadPipeline(file)
        const plan = yield* planPipeline(pipeline)
        return yield* readSelectedState(pipeline, plan, { sets: ["people"] })
      }).pipe(Effect.provide(NodeContext.layer))
    )
    expect(selected.plan.jobs.map((j) => j.id)).toEqual(["out/people/p1.mp4", "out/people/p2.mp4", "out/people/p3.mp4"])
    expect(selected.state.counts).toMatchObject({ "up-to-date": 2, new: 1 })
  }, 30_000)

  it("a selector that matches nothing fails with SelectionInvalid (the Promise twin rejects with it), nothing written", async () => {
    const p = tempProject()
    const file = writeCampaign(p)
    const before = p.snapshot()
    const failed = await Effect.runPromise(
      Effect.either(
        runPipeline(file, { backend: simulator, baseSettings: fastSettings, select: { only: ["out/hero/carol.mp4"] } }).pipe(
          Effect.provide(NodeContext.layer)
        )
      )
    )
    expect(Either.isLeft(failed) && failed.left._tag).toBe("SelectionInvalid")
    const rejected = await runPipelinePromise(file, { backend: simulator, select: { limit: 0 } }).catch((e: unknown) => e)
    expect(rejected).toBeInstanceOf(SelectionInvalid)
    expect((rejected as SelectionInvalid).problems.map((x) => x.selector)).toEqual(["--limit 0"])
    expect(p.snapshot()).toEqual(before)
  }, 30_000)
})
