/**
 * `clapper report` as a user runs it: the real binary after a real run against the simulator
 * (real MP4s, a job that fails), and the bad inputs it must answer clearly.
 */
import { existsSync, readFileSync, rmSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { pipelineReportPromise } from "../../src/report/buildReport.ts"
import { corruptMp4, oneFailure, readReport, report, reportPath, runAgainst, smallCampaign, startSim } from "./support.ts"

/** How many times `needle` occurs in `text`. */
const count = (text: string, needle: string) => text.split(needle).length - 1

const lockOf = (root: string, name = "campaign") =>
  JSON.parse(readFileSync(join(root, "pipelines", `${name}.lock.json`), "utf8")) as {
    outputs: Record<string, { output: { sha256: string } }>
  }

describe("clapper report", () => {
  it("reports the last run: counts, a poster per video (cached by digest), the failure and what to do", async () => {
    const sim = await startSim(oneFailure)
    const campaign = smallCampaign()
    const run = await runAgainst(sim, campaign)
    expect(run.result.code, run.result.stderr).toBe(1)
    const result = await report(campaign)
    expect(result.code, result.stderr).toBe(0)
    expect(result.stdout).toContain("Report of 4 jobs (3 done, 1 failed, 0 in flight, 0 to do), run 1: pipelines/campaign.report.html")
    const page = readReport(campaign)
    expect(page).toContain('data-count="done"><span class="n">3</span>')
    expect(page).toContain('data-count="failed"><span class="n">1</span>')
    expect(count(page, '<figure class="tile"')).toBe(4)
    expect(count(page, '<img src="data:image/jpeg;base64,')).toBe(3)
    expect(count(page, '<div class="tl-row"')).toBe(4)
    expect(page).toContain("failed at poll with the provider's code <code>generation_failed</code>")
    expect(page).toContain("The provider could not make this video from its inputs.")
    // Posters are kept by the output's digest: a second report takes ffmpeg for none of them.
    const posters = join(campaign.project.root, "pipelines", ".clapper", "campaign", "posters")
    for (const entry of Object.values(lockOf(campaign.project.root).outputs)) {
      expect(existsSync(join(posters, `${entry.output.sha256}.jpg`))).toBe(true)
    }
    const again = await pipelineReportPromise(join(campaign.project.root, campaign.file))
    expect(again.posters).toEqual({ made: 0, cached: 3, placeholders: 0 })
    // Links are relative to the report's folder, wherever it is.
    expect(page).toContain('href="../renders/campaign/alice--hello.mp4"')
    expect((await report(campaign, "--output", "report.html")).code).toBe(0)
    expect(readFileSync(join(campaign.project.root, "report.html"), "utf8")).toContain('href="renders/campaign/alice--hello.mp4"')
  }, 60_000)

  it("shows a missing-file tile for an output deleted since the run", async () => {
    const sim = await startSim()
    const campaign = smallCampaign()
    expect((await runAgainst(sim, campaign)).result.code).toBe(0)
    rmSync(join(campaign.project.root, campaign.jobs[1]!))
    const result = await report(campaign)
    expect(result.code, result.stderr).toBe(0)
    expect(result.stdout).toContain("3 done, 0 failed, 0 in flight, 0 to do, 1 missing")
    const page = readReport(campaign)
    expect(page).toMatch(
      /data-state="missing" data-job="renders\/campaign\/alice--thanks.mp4"><div class="thumb missing"><span>missing file<\/span>/
    )
    expect(count(page, '<img src="data:image/jpeg')).toBe(3)
  }, 60_000)

  it("writes the report with a placeholder and a warning for a video ffmpeg cannot read", async () => {
    // The provider's file passes the download's check (an ftyp box) but holds no video.
    const campaign = smallCampaign()
    const sim = await startSim({ contentFile: campaign.project.write("provider/corrupt.mp4", corruptMp4()) })
    expect((await runAgainst(sim, campaign)).result.code).toBe(0)
    const result = await report(campaign)
    expect(result.code, result.stderr).toBe(0)
    expect(result.stderr).toContain("warning: no poster for renders/campaign/alice--hello.mp4: ffmpeg could not read it (")
    const page = readReport(campaign)
    expect(count(page, '<a class="thumb placeholder"')).toBe(4)
    expect(count(page, "<img src=")).toBe(0)
    expect(page).toContain("ffmpeg could not read it")
  }, 60_000)

  it("without ffmpeg: every video a placeholder linking to it, and one warning saying why", async () => {
    const sim = await startSim({ ffmpeg: false })
    const campaign = smallCampaign()
    expect((await runAgainst(sim, campaign)).result.code).toBe(0)
    const written = await pipelineReportPromise(join(campaign.project.root, campaign.file), { ffmpeg: "/nonexistent/ffmpeg" })
    expect(written.warnings).toEqual(["no poster frames: ffmpeg at /nonexistent/ffmpeg does not run; the gallery shows placeholders"])
    expect(written.posters).toEqual({ made: 0, cached: 0, placeholders: 4 })
    const page = readFileSync(written.path, "utf8")
    expect(count(page, '<a class="thumb placeholder" href="../renders/campaign/')).toBe(4)
  }, 60_000)

  it("--run N reports that run; a run that does not exist: exit 2, naming the runs there are", async () => {
    const sim = await startSim()
    const campaign = smallCampaign()
    expect((await runAgainst(sim, campaign)).result.code).toBe(0)
    expect((await runAgainst(sim, campaign)).result.code).toBe(0)
    const first = await report(campaign, "--run", "1")
    expect(first.code, first.stderr).toBe(0)
    expect(readReport(campaign)).toMatch(/Run 1 of 2: started/)
    const missing = await report(campaign, "--run", "7")
    expect(missing.code).toBe(2)
    expect(missing.stderr).toContain("run 7 of pipelines/campaign.yaml is not recorded: the runs recorded are 1 to 2")
    const zero = await report(campaign, "--run", "0")
    expect(zero.code).toBe(2)
    expect(zero.stderr).toContain("--run 0: runs are numbered from 1")
  }, 60_000)

  it("reports a selection (--only, --set, --retry-failed) and refuses a selector that matches nothing", async () => {
    const sim = await startSim(oneFailure)
    const campaign = smallCampaign()
    expect((await runAgainst(sim, campaign)).result.code).toBe(1)
    const alice = await report(campaign, "--only", "renders/campaign/alice--*")
    expect(alice.code, alice.stderr).toBe(0)
    expect(alice.stdout).toContain("Report of 2 jobs (2 done, 0 failed, 0 in flight, 0 to do), run 1")
    const page = readReport(campaign)
    expect(page).toContain("2 of 4 jobs selected (<code>--only renders/campaign/alice--*</code>)")
    expect(count(page, '<figure class="tile"')).toBe(2)
    expect(count(page, '<div class="tl-row"')).toBe(2)
    const failed = await report(campaign, "--retry-failed")
    expect(failed.stdout).toContain("Report of 1 job (0 done, 1 failed, 0 in flight, 0 to do)")
    const typo = await report(campaign, "--set", "greetingz")
    expect(typo.code).toBe(2)
    expect(typo.stderr).toContain(
      'clapper: --set greetingz: no set of that name has jobs (the sets: greetings) (did you mean "greetings"?)'
    )
  }, 60_000)

  it("a pipeline never run: the report says so and still shows every job to do", async () => {
    const campaign = smallCampaign()
    const result = await report(campaign)
    expect(result.code, result.stderr).toBe(0)
    expect(result.stdout).toContain("0 done, 0 failed, 0 in flight, 4 to do), no run recorded yet")
    expect(readReport(campaign)).toContain("No run of this pipeline is recorded")
  })

  it("refuses a report path among the outputs, or over an input or the pipeline: exit 2, nothing written", async () => {
    const campaign = smallCampaign()
    const image = join(campaign.project.root, "assets", "presenters", "alice.png")
    const before = readFileSync(image)
    const cases = [
      ["renders/campaign/report.html", "is inside renders/campaign/, a folder the pipeline's outputs go to"],
      ["renders/campaign/sub/report.html", "is inside renders/campaign/"],
      ["assets/presenters/alice.png", "is the input image"],
      ["pipelines/campaign.yaml", "is the pipeline file"],
      ["pipelines/campaign.lock.json", "is the pipeline's lock file"],
      ["pipelines/.clapper/campaign/report.html", "is inside the pipeline's state folder"]
    ] as const
    for (const [output, says] of cases) {
      const result = await report(campaign, "--output", output)
      expect(result.code, output).toBe(2)
      expect(result.stderr).toContain(`clapper: report path "${output}" ${says}`)
    }
    expect(readFileSync(image).equals(before)).toBe(true)
    expect(existsSync(join(campaign.project.root, "renders"))).toBe(false)
    expect(existsSync(reportPath(campaign))).toBe(false)
    // Elsewhere is fine.
    const elsewhere = await report(campaign, "--output", "out/report.html")
    expect(elsewhere.code, elsewhere.stderr).toBe(0)
    expect(existsSync(join(campaign.project.root, "out", "report.html"))).toBe(true)
  }, 60_000)
})
