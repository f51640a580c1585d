/**
 * `checkPipeline` (what `clapper validate` needs) makes every check `planPipeline` makes and finds
 * the same jobs, without building the plan; and a job's plan does not depend on the other jobs
 * of the same files (they share the parts a plan makes once per pair of files).
 */
import { Effect } from "effect"
import { NodeContext } from "@effect/platform-node"
import { describe, expect, it } from "vitest"
import { loadPipelinePromise, planPipelinePromise, PipelineInvalid, type PlannedJob } from "../../src/index.ts"
import { checkPipeline } from "../../src/plan/plan.ts"
import { tempProject } from "../support/tempProject.ts"

const check = (pipeline: Awaited<ReturnType<typeof loadPipelinePromise>>) =>
  Effect.runPromise(Effect.either(Effect.provide(checkPipeline(pipeline), NodeContext.layer)))

const rows = () =>
  `version: 1\nname: checked\nsets:\n  a:\n    rows: data.csv\n    image: assets/presenters/{{ row.image }}\n    audio: assets/voice/{{ row.audio }}\n    output: out/{{ row.id }}.mp4\n`

describe("checkPipeline", () => {
  it("finds the jobs planPipeline plans", async () => {
    const p = tempProject()
    p.write("data.csv", "id,image,audio\n1,alice.png,hello.wav\n2,bob.jpg,hello.wav\n3,alice.png,hello.wav\n")
    const pipeline = await loadPipelinePromise(p.write("pipeline.yaml", rows()))
    const checked = await check(pipeline)
    const plan = await planPipelinePromise(pipeline)
    expect(checked._tag === "Right" ? checked.right : []).toEqual(plan.jobs.map((job) => job.job))
  })

  it("reports the same problems as planPipeline", async () => {
    const p = tempProject()
    p.write("data.csv", "id,image,audio\n1,alice.png,nope.wav\n2,carol.png,hello.wav\n2,alice.png,hello.wav\n")
    p.write("assets/presenters/carol.png", "not an image")
    const pipeline = await loadPipelinePromise(p.write("pipeline.yaml", rows()))
    const checked = await check(pipeline)
    const planned = await planPipelinePromise(pipeline).then(
      () => undefined,
      (e: unknown) => e
    )
    expect(planned).toBeInstanceOf(PipelineInvalid)
    expect(checked._tag).toBe("Left")
    const diagnostics = checked._tag === "Left" ? checked.left.diagnostics : []
    expect(diagnostics.length).toBeGreaterThanOrEqual(3)
    expect(diagnostics).toEqual((planned as PipelineInvalid).diagnostics)
  })

  it("plans a job of shared files as it plans it alone", async () => {
    const p = tempProject()
    p.write("data.csv", "id,image,audio\n1,alice.png,hello.wav\n2,bob.jpg,hello.wav\n3,alice.png,hello.wav\n")
    const together = await planPipelinePromise(await loadPipelinePromise(p.write("pipeline.yaml", rows())))
    const q = tempProject()
    q.write("data.csv", "id,image,audio\n3,alice.png,hello.wav\n")
    const alone = await planPipelinePromise(await loadPipelinePromise(q.write("pipeline.yaml", rows())))
    // All but where the job sits (its output's folder, its index).
    const planOf = (job: PlannedJob | undefined) =>
      job && [
        job.id,
        job.set,
        job.model,
        job.fingerprint,
        job.inputs,
        job.stages,
        job.durationSeconds,
        job.estimatedCostUsd,
        job.costUsd,
        job.unpricedStages
      ]
    expect(planOf(together.jobs[2])).toEqual(planOf(alone.jobs[0]))
    expect(together.jobs[2]?.fingerprint).toBe(together.jobs[0]?.fingerprint)
  })
})
