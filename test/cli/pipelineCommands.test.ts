import { describe, expect, it } from "vitest"
import { repoPipelineProject } from "../support/repoPipeline.ts"
import { runCli } from "../support/runCli.ts"
import { tempProject } from "../support/tempProject.ts"

describe("clapper validate / plan / schema (the real binary)", () => {
  it("validate: one summary line per valid file, exit 0", async () => {
    const result = await runCli(["validate", "pipelines/quickstart.yaml", "pipelines/spring-launch.yaml"], {
      cwd: repoPipelineProject("quickstart.yaml", "spring-launch.yaml")
    })
    expect(result).toMatchObject({ code: 0, stderr: "" })
    expect(result.stdout).toBe("pipelines/quickstart.yaml: ok, 2 jobs\npipelines/spring-launch.yaml: ok, 12 jobs\n")
  })

  it("validate: a folder or a missing file is named with what to do (not the argument parser's words), every file checked", async () => {
    const p = tempProject()
    p.write("pipelines/ok.txt", "a folder with a file in it\n")
    const result = await runCli(["validate", "pipelines", "missing.yaml"], { cwd: p.root })
    expect(result.code).toBe(2)
    expect(result.stderr.trim().split("\n")).toEqual([
      "pipelines:1:1: is a folder, not a file: name the pipeline file itself (like pipelines/spring-launch.yaml)",
      "missing.yaml:1:1: no such pipeline file"
    ])
  })

  it("validate: every diagnostic of every file on stderr, no stack trace, exit 2, nothing written", async () => {
    const p = tempProject()
    p.write("bad.yaml", "version: 1\nname: bad\nsets:\n  a: { pairs: [{ image: assets/nope.png, audio: assets/voice/hello.wav }] }\n")
    p.write("worse.yaml", "version: 3\nname: worse\nsets: {}\n")
    const before = p.snapshot()
    const result = await runCli(["validate", "bad.yaml", "worse.yaml"], { cwd: p.root })
    expect(result.code).toBe(2)
    expect(result.stderr.trim().split("\n")).toEqual([
      `bad.yaml:4:25: image "assets/nope.png": no such file`,
      "worse.yaml:1:10: version: this Clapper reads pipeline files of version 1; set `version: 1`",
      "worse.yaml:3:7: sets is empty: add at least one set"
    ])
    expect(result.stderr).not.toMatch(/\bat .*\.ts:\d+/)
    expect(p.snapshot()).toEqual(before)
  })

  it("plan --json: the documented shape, with totals", async () => {
    const result = await runCli(["plan", "pipelines/spring-launch.yaml", "--json"], { cwd: repoPipelineProject("spring-launch.yaml") })
    expect(result.code).toBe(0)
    const plan = JSON.parse(result.stdout)
    expect(plan.pipeline).toMatchObject({ name: "spring-launch", file: "pipelines/spring-launch.yaml" })
    expect(plan.totals).toEqual({
      jobs: 12,
      renders: 12,
      estimatedCostUsd: 11.7,
      unpricedStages: [],
      states: { new: 12, changed: 0, "in-flight": 0, "up-to-date": 0, failed: 0 },
      // 12 renders at the published 2 generations a minute: 6 minutes at least.
      rendersToSubmit: 12,
      minimumDurationMs: 360_000,
      generationQuota: "2 per minute"
    })
    expect(plan.jobs[0]).toEqual({
      id: "renders/spring-2026/hero.mp4",
      set: "hero",
      index: 0,
      output: "renders/spring-2026/hero.mp4",
      model: "mirage-video-1-latest",
      fingerprint: expect.stringMatching(/^sha256:[0-9a-f]{64}$/),
      inputs: {
        image: expect.objectContaining({ path: "../examples/assets/presenters/alice.png", kind: "png" }),
        audio: expect.objectContaining({ path: "../examples/assets/voice/welcome.mp3", kind: "mp3" })
      },
      estimatedCostUsd: 0.9,
      state: "new"
    })
  })

  it("plan: a table and a total for people; exit 2 on a missing file", async () => {
    const ok = await runCli(["plan", "pipelines/quickstart.yaml"], { cwd: repoPipelineProject("quickstart.yaml") })
    expect(ok.code).toBe(0)
    expect(ok.stdout).toContain("renders/quickstart/alice--hello.mp4")
    expect(ok.stdout.trim().split("\n").slice(-3)).toEqual([
      "2 jobs, 2 renders, estimated $1.80",
      "2 new, 0 changed, 0 in-flight, 0 up-to-date, 0 failed",
      "2 renders to submit at 2 per minute: at least 1 min"
    ])
    // A raised quota on the command line shortens it; the pipeline's own would too.
    const raised = await runCli(["plan", "pipelines/quickstart.yaml", "--quota", "generation=60/min"], {
      cwd: repoPipelineProject("quickstart.yaml")
    })
    expect(raised.stdout.trim().split("\n").at(-1)).toBe("2 renders to submit at 60 per minute: at least 2 s")
    const missing = await runCli(["plan", "pipelines/nope.yaml"])
    expect(missing.code).toBe(2)
  })
})
