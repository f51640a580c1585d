/**
 * The report as a person sees it: opened from a file:// URL in a real headless Chromium (Debian's
 * package, driven by playwright-core; never a browser download) after a real run. No console
 * error, no request leaves the page, the counts, one poster per video, one timeline row per job,
 * the gallery's filter answers a click. A screenshot is kept in test-artifacts/report.png; with
 * CLAPPER_WRITE_DOCS=1, the README's docs/report.png is made from pipelines/outreach.yaml run on
 * the built-in simulator.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { pathToFileURL } from "node:url"
import { chromium, type BrowserContext, type Page } from "playwright-core"
import { afterEach, describe, expect, it } from "vitest"
import { repoPipelineProject } from "../support/repoPipeline.ts"
import { runCli, watchCliRun } from "../support/runCli.ts"
import { repoRoot } from "../support/tempProject.ts"
import { oneFailure, report, reportPath, runAgainst, smallCampaign, startSim } from "./support.ts"

const chromiumPath = "/usr/bin/chromium"
const skipBrowser = process.env["CLAPPER_SKIP_BROWSER"] === "1"

const opened: Array<{ context: BrowserContext; profile: string }> = []
afterEach(async () => {
  for (const { context, profile } of opened.splice(0)) {
    await context.close()
    rmSync(profile, { recursive: true, force: true })
  }
})

interface OpenedPage {
  readonly page: Page
  /** Console errors and uncaught exceptions of the page. */
  readonly errors: Array<string>
  /** Requests for anything but the report itself and its data: URIs. */
  readonly requests: Array<string>
}

/** The report in a fresh Chromium profile, loaded from its file:// URL. */
const openReport = async (file: string): Promise<OpenedPage> => {
  if (!existsSync(chromiumPath)) {
    throw new Error(
      `Chromium is not installed at ${chromiumPath}: install it with \`apt-get install chromium\` (Debian's package; no browser is downloaded), or set CLAPPER_SKIP_BROWSER=1 to skip the browser test`
    )
  }
  const profile = mkdtempSync(join(tmpdir(), "clapper-chromium-"))
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: chromiumPath,
    headless: true,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync"
    ],
    viewport: { width: 1280, height: 900 }
  })
  opened.push({ context, profile })
  const page = await context.newPage()
  const errors: Array<string> = []
  const requests: Array<string> = []
  const url = pathToFileURL(file).href
  page.on("console", (message) => {
    if (message.type() === "error") errors.push(message.text())
  })
  page.on("pageerror", (error) => errors.push(error.message))
  page.on("request", (request) => {
    if (request.url() !== url && !request.url().startsWith("data:")) requests.push(request.url())
  })
  await page.goto(url, { waitUntil: "load" })
  return { page, errors, requests }
}

const visibleTiles = (page: Page) => page.locator(".tile:not([hidden])").count()

describe.skipIf(skipBrowser)("the report in a browser", () => {
  it("opens from a file:// URL with no error, the right counts, a poster per video, a row per job and a working filter", async () => {
    const sim = await startSim(oneFailure)
    // The pipeline's own text is user text too: it must not become markup.
    const campaign = smallCampaign("campaign", `Two presenters <img src=x onerror="document.title='pwned'">`)
    const run = await runAgainst(sim, campaign)
    expect(run.result.code, run.result.stderr).toBe(1)
    const made = await report(campaign)
    expect(made.code, made.stderr).toBe(0)

    const { page, errors, requests } = await openReport(reportPath(campaign))
    expect(await page.title()).toBe("campaign · Clapper report")
    expect(await page.locator("img[src='x']").count()).toBe(0)
    expect(await page.locator("[data-count='done'] .n").textContent()).toBe("3")
    expect(await page.locator("[data-count='failed'] .n").textContent()).toBe("1")
    expect(await page.locator("[data-count='in-flight'] .n").textContent()).toBe("0")
    expect(await page.locator("#failures").textContent()).toContain("generation_failed")

    // One poster per output on disk, each a decoded picture.
    const outputs = readdirSync(join(campaign.project.root, "renders", "campaign")).filter((f) => f.endsWith(".mp4"))
    expect(outputs).toHaveLength(3)
    const posters = page.locator(".tile img")
    expect(await posters.count()).toBe(outputs.length)
    // Runs in the page: an image that did not decode has no natural width.
    for (const width of await posters.evaluateAll((imgs) => imgs.map((img) => Number(Reflect.get(img, "naturalWidth"))))) {
      expect(width).toBeGreaterThan(0)
    }
    expect(await page.locator(".tile").count()).toBe(4)
    expect(await page.locator(".tl-row[data-job]").count()).toBe(4)
    expect(await page.locator(".tl-row[data-outcome='failed'] .m-failed").count()).toBe(1)

    // The filter: a click on "failed" leaves the failed job's tile alone, "all" brings them back.
    await page.locator("button[data-filter-state='failed']").click()
    expect(await visibleTiles(page)).toBe(1)
    expect(await page.locator(".tile:not([hidden])").getAttribute("data-job")).toBe("renders/campaign/bob--thanks.mp4")
    expect(await page.locator("#shown").textContent()).toBe("1 of 4 shown")
    await page.locator("button[data-filter-state='all']").click()
    expect(await visibleTiles(page)).toBe(4)

    mkdirSync(join(repoRoot, "test-artifacts"), { recursive: true })
    await page.screenshot({ path: join(repoRoot, "test-artifacts", "report.png"), fullPage: true })
    expect(errors).toEqual([])
    expect(requests).toEqual([])
  }, 90_000)

  it.runIf(process.env["CLAPPER_WRITE_DOCS"] === "1")(
    "the README's screenshot: pipelines/outreach.yaml run on the built-in simulator, then reported",
    async () => {
      const root = repoPipelineProject("outreach.yaml")
      // About a minute and a half: the simulator renders at 4 × the audio's length (runCli gives up after 60 s).
      const code = await watchCliRun(["run", "pipelines/outreach.yaml", "--sim", "--json"], { cwd: root, onEvent: () => undefined })
      expect(code).toBe(0)
      const made = await runCli(["report", "pipelines/outreach.yaml"], { cwd: root })
      expect(made.code, made.stderr).toBe(0)
      const { page, errors } = await openReport(join(root, "pipelines", "outreach.report.html"))
      expect(await page.locator(".tile img").count()).toBe(6)
      expect(errors).toEqual([])
      mkdirSync(join(repoRoot, "docs"), { recursive: true })
      await page.screenshot({ path: join(repoRoot, "docs", "report.png"), fullPage: true })
    },
    240_000
  )
})
