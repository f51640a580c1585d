/** `clapper run` as a user runs it: the real binary, the built-in simulator, real MP4s out. */
import ffmpeg from "@ffmpeg-installer/ffmpeg"
import { execFileSync } from "node:child_process"
import { existsSync, readdirSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { repoPipelineProject } from "../support/repoPipeline.ts"
import { runCli, watchCliRun } from "../support/runCli.ts"

const quickstartProject = () => repoPipelineProject("quickstart.yaml")

/** Duration in seconds and stream kinds, read by ffmpeg itself. */
const probe = (file: string) => {
  let out = ""
  try {
    execFileSync(ffmpeg.path, ["-hide_banner", "-i", file], { stdio: "pipe" })
  } catch (error) {
    out = String((error as { stderr?: Buffer }).stderr ?? "")
  }
  const m = /Duration: (\d+):(\d+):([\d.]+)/.exec(out)
  return {
    seconds: m ? Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3]) : NaN,
    video: /Stream #.*Video: h264/.test(out),
    audio: /Stream #.*Audio:/.test(out)
  }
}

describe("clapper run (the real binary)", () => {
  it("renders the quickstart on the simulator into valid MP4s, with NDJSON events", async () => {
    const root = quickstartProject()
    const result = await runCli(["run", "pipelines/quickstart.yaml", "--sim", "--json"], { cwd: root })
    expect(result.code, result.stderr).toBe(0)
    const events = result.stdout
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as { type: string; at: string })
    expect(events[0]?.type).toBe("run.started")
    expect(events.at(-1)?.type).toBe("run.finished")
    expect(events.filter((e) => e.type === "job.completed")).toHaveLength(2)
    for (const e of events) expect(Number.isNaN(Date.parse(e.at))).toBe(false)
    for (const name of ["alice--hello.mp4", "bob--hello.mp4"]) {
      const file = join(root, "renders", "quickstart", name)
      expect(readFileSync(file).subarray(4, 8).toString("latin1")).toBe("ftyp")
      const info = probe(file)
      expect(info.video && info.audio).toBe(true)
      expect(info.seconds).toBeGreaterThan(1.8)
      expect(info.seconds).toBeLessThan(2.5)
    }
  }, 60_000)

  it("without --sim and without a key: exit 2 naming the variable, before anything else", async () => {
    const root = quickstartProject()
    const env = { ...process.env, MIRAGE_API_KEY: "" }
    const result = await runCli(["run", "pipelines/quickstart.yaml"], { cwd: root, env })
    expect(result.code).toBe(2)
    expect(result.stderr).toContain("MIRAGE_API_KEY")
    expect(existsSync(join(root, "renders"))).toBe(false)
    expect(existsSync(join(root, "pipelines", ".clapper"))).toBe(false)
  })

  it("Ctrl-C: stops, records the videos in flight, leaves no partial file, exits 130", async () => {
    const root = quickstartProject()
    const submitted: Array<string> = []
    const exitCode = await watchCliRun(["run", "pipelines/quickstart.yaml", "--sim", "--json"], {
      cwd: root,
      onEvent: (event, signal) => {
        if (event.type === "job.submitted" && event.videoId) submitted.push(event.videoId)
        if (submitted.length === 2 && event.type === "job.submitted") signal("SIGINT")
      }
    })
    expect(exitCode).toBe(130)
    // The journal recorded both videos: `clapper status` shows them in flight, with their ids.
    const status = await runCli(["status", "pipelines/quickstart.yaml", "--json"], { cwd: root })
    expect(status.code).toBe(0)
    const report = JSON.parse(status.stdout) as { inFlight: Array<{ videoId: string }>; runner: unknown }
    expect(report.inFlight.map((j) => j.videoId).sort()).toEqual([...submitted].sort())
    expect(report.runner).toBeNull() // the lock was released on the way out
    const leftovers = existsSync(join(root, "renders")) ? readdirSync(join(root, "renders"), { recursive: true }) : []
    expect(leftovers.filter((f) => String(f).endsWith(".mp4") || String(f).endsWith(".part"))).toEqual([])
  }, 60_000)
})
