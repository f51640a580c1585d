import { describe, expect, it } from "vitest"
import { loadPipelinePromise, planPipelinePromise, planToJson } from "../../src/index.ts"
import { tempProject } from "../support/tempProject.ts"

describe("plan", () => {
  it("prices each render from the audio's real duration in 6-second increments, and counts shared renders once", async () => {
    const p = tempProject()
    const file = p.write(
      "pipeline.yaml",
      `version: 1
name: priced
sets:
  a:
    pairs:
      - { image: assets/presenters/alice.png, audio: assets/outreach/p-003.mp3, output: long.mp4 }
      - { image: assets/presenters/alice.png, audio: assets/voice/hello.wav, output: short.mp4 }
      - { image: assets/presenters/alice.png, audio: assets/voice/hello.wav, output: short-copy.mp4 }
`
    )
    const plan = await planPipelinePromise(await loadPipelinePromise(file))
    const json = planToJson(plan, p.root)
    // 7.2 s is billed as 12 s, 2 s as 6 s, at $0.15 per second.
    expect(json.jobs.map((j) => [j.id, j.estimatedCostUsd])).toEqual([
      ["long.mp4", 1.8],
      ["short.mp4", 0.9],
      ["short-copy.mp4", 0.9]
    ])
    expect(json.jobs[1]!.fingerprint).toBe(json.jobs[2]!.fingerprint)
    expect(json.totals).toEqual({ jobs: 3, renders: 2, estimatedCostUsd: 2.7, unpricedStages: [] })
    expect(json.jobs[0]!.inputs.audio).toMatchObject({
      path: "assets/outreach/p-003.mp3",
      kind: "mp3",
      durationSeconds: expect.closeTo(7.2, 1)
    })
    expect(json.jobs[0]!.inputs.image.sha256).toMatch(/^[0-9a-f]{64}$/)
  })

  it("keeps the fingerprint when only the output changes, and changes it with an input's bytes", async () => {
    const p = tempProject()
    const yaml = (output: string) => `version: 1
name: fp
output: ${output}
sets:
  a: { pairs: [{ image: assets/presenters/alice.png, audio: assets/voice/hello.wav }] }
`
    const fingerprintOf = async () => (await planPipelinePromise(await loadPipelinePromise(p.root + "/pipeline.yaml"))).jobs[0]!.fingerprint
    p.write("pipeline.yaml", yaml("one/{{ image.stem }}.mp4"))
    const first = await fingerprintOf()
    p.write("pipeline.yaml", yaml("two/{{ audio.stem }}-renamed.mp4"))
    expect(await fingerprintOf()).toBe(first)
    const { readFileSync } = await import("node:fs")
    p.write("assets/presenters/alice.png", readFileSync(p.root + "/assets/presenters/carol.png"))
    expect(await fingerprintOf()).not.toBe(first)
  })
})
