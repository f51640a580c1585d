/**
 * Contract test against the provider's published description: the real `clapper run` talks to
 * Prism (`prism mock`), which validates every request against schemas/mirage-openapi.yml (a byte
 * for byte copy of the public description). Any request Prism reports as a violation fails the
 * test, with Prism's own words.
 *
 * What Prism's mock can and cannot carry (checked against the description, not guessed):
 * - Static answers (no `-d`) never finish a render: Prism builds GET /v1/videos/{id} from the
 *   schema with the first value of the `status` enum, `PROCESSING`, whatever the examples say, so
 *   a job would poll until `run.timeout` and be detached. Hence `--dynamic` with a fixed seed:
 *   Prism then reseeds for every request, so every answer of one operation is the same, and with
 *   seed "8" the MAVideo it generates has `status: COMPLETE` and `id: "deserunt"` (the first poll
 *   completes; the test checks this and says so if a Prism upgrade changes it).
 * - The content endpoint's 200 has no content in the description (nor a redirect status), so
 *   Prism answers 200 with an empty body. No run can complete: Clapper downloads nothing, refuses
 *   the empty file as not an MP4, and fails that job at its `download` step, exit code 1. That is
 *   asserted as "a clear per-job error, not a crash".
 */
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { runCli } from "../support/runCli.ts"
import { tempProject } from "../support/tempProject.ts"
import { type Prism, prismVersion, startPrism, violationLogLines } from "./prism.ts"
import { describeViolations, type Exchange, type Recorder, startRecorder } from "./recorder.ts"

/** The seed whose generated MAVideo is COMPLETE (see above). */
const seed = "8"

let prism: Prism
let recorder: Recorder
let baseUrl: string

beforeAll(async () => {
  prism = await startPrism({ dynamic: true, seed })
  recorder = await startRecorder(prism.port)
  baseUrl = `http://127.0.0.1:${recorder.port}`
}, 60_000)

afterAll(async () => {
  await recorder?.close()
  await prism?.stop()
})

/** The exchanges recorded from now on, and Prism's log from now on once it has caught up with them. */
const window = () => {
  const firstExchange = recorder.exchanges.length
  const logOffset = prism.log().length
  return {
    exchanges: (): ReadonlyArray<Exchange> => recorder.exchanges.slice(firstExchange),
    /**
     * Prism's log from the window's start, once it shows every request of the window as received
     * and has then been quiet for a moment (its lines about a request may come after the answer).
     * Bounded: after 3 s it returns what there is.
     */
    log: async (): Promise<string> => {
      const expected = recorder.exchanges.length - firstExchange
      const deadline = Date.now() + 3_000
      let last = ""
      let quietSince = Date.now()
      for (;;) {
        const log = prism.log().slice(logOffset)
        if (log !== last) {
          last = log
          quietSince = Date.now()
        }
        const received = log.split("\n").filter((line) => line.includes("Request received")).length
        if ((received >= expected && Date.now() - quietSince >= 250) || Date.now() > deadline) return log
        await new Promise((resolve) => setTimeout(resolve, 25))
      }
    }
  }
}

/** The description's operation a request is for (path templates, as the description writes them). */
const operation = (e: Exchange): string => {
  const path = e.path.split("?")[0] ?? ""
  const template = /^\/v1\/videos\/[^/]+\/content$/.test(path)
    ? "/v1/videos/{video_id}/content"
    : /^\/v1\/videos\/(?!captions)[^/]+$/.test(path)
      ? "/v1/videos/{video_id}"
      : path
  return `${e.method} ${template}`
}

interface RunEvent {
  readonly type: string
  readonly job?: string
  readonly step?: string
  readonly reason?: string
  readonly status?: string
  readonly videoId?: string
}

const pipeline = `version: 1
name: contract
run:
  concurrency: 1
  retry: { attempts: 2, initialDelay: 20ms, maxDelay: 100ms }
  poll: { interval: 50ms, maxInterval: 200ms }
  timeout: 10s
sets:
  hello:
    pairs:
      - { image: assets/presenters/alice.png, audio: assets/voice/hello.wav, output: renders/alice--hello.mp4 }
`

describe(`the Mirage API description, through Prism ${prismVersion()} (prism mock --dynamic --seed ${seed} --errors)`, () => {
  it("clapper run: every request it makes is valid; the mock's empty content fails the job clearly", async () => {
    const project = tempProject()
    const file = project.write("contract.yaml", pipeline)
    const seen = window()
    const result = await runCli(["run", file, "--base-url", baseUrl, "--json"], {
      cwd: project.root,
      env: {
        MIRAGE_API_KEY: "contract-test-key",
        MIRAGE_BASE_URL: baseUrl,
        // Clapper's per-key quota ledger: this run's, not the user's.
        CLAPPER_QUOTA_DIR: join(project.root, ".quota")
      }
    })
    const exchanges = seen.exchanges()
    const log = await seen.log()

    // The contract: nothing Clapper sent was refused by the description.
    expect(describeViolations(exchanges), "requests Prism reports as violations of schemas/mirage-openapi.yml").toEqual([])
    expect(violationLogLines(log), "violations in Prism's log").toEqual([])
    expect(log.split("\n").filter((line) => line.includes("Request received")).length, "every request reached Prism").toBe(exchanges.length)
    for (const e of exchanges) expect(e.request.hasApiKey, `${e.method} ${e.path} carries x-api-key`).toBe(true)

    // What it exercised: one submit, its polls, its download.
    const operations = exchanges.map(operation)
    expect(operations.filter((o) => o === "POST /v1/videos")).toHaveLength(1)
    expect(operations).toContain("GET /v1/videos/{video_id}")
    expect(operations).toContain("GET /v1/videos/{video_id}/content")
    expect([...new Set(operations)].sort()).toEqual(["GET /v1/videos/{video_id}", "GET /v1/videos/{video_id}/content", "POST /v1/videos"])
    const poll = exchanges.find((e) => operation(e) === "GET /v1/videos/{video_id}")
    expect(JSON.parse(poll?.responseText ?? "{}"), `Prism --seed ${seed} no longer answers COMPLETE: pick another seed`).toMatchObject({
      status: "COMPLETE"
    })
    const content = exchanges.find((e) => operation(e) === "GET /v1/videos/{video_id}/content")
    expect({ status: content?.status, bytes: content?.responseText.length }).toEqual({ status: 200, bytes: 0 })

    // What Clapper made of it: a per-job failure at the download, not a crash.
    expect(result.stderr).not.toMatch(/internal error|TypeError|\n\s+at /)
    const events = result.stdout
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as RunEvent)
    expect(events[0]?.type).toBe("run.started")
    expect(events.at(-1)?.type).toBe("run.finished")
    expect(events.map((e) => e.type)).toEqual(expect.arrayContaining(["job.submitted", "job.rendered", "job.downloading"]))
    const failed = events.filter((e) => e.type === "job.failed")
    expect(failed).toHaveLength(1)
    expect(failed[0]).toMatchObject({ job: "renders/alice--hello.mp4", step: "download", videoId: "deserunt" })
    expect(failed[0]?.reason).toMatch(/^[^\n]*not a valid MP4[^\n]*$/)
    expect(result.code, result.stderr).toBe(1)
  }, 60_000)

  it("the detection can fail: deliberately bad requests are reported, each with Prism's reason", async () => {
    const seen = window()
    const key = { "x-api-key": "contract-test-key" }
    const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])

    // The wrong field names: the description wants image_reference and audio_reference.
    const wrongFields = new FormData()
    wrongFields.append("image", new Blob([png], { type: "image/png" }), "a.png")
    wrongFields.append("audio", new Blob([new Uint8Array(8)], { type: "audio/wav" }), "a.wav")
    await fetch(`${baseUrl}/v1/videos`, { method: "POST", headers: key, body: wrongFields })

    // A model outside the description's enum.
    const badModel = new FormData()
    badModel.append("image_reference", new Blob([png], { type: "image/png" }), "a.png")
    badModel.append("audio_reference", new Blob([new Uint8Array(8)], { type: "audio/wav" }), "a.wav")
    badModel.append("model", "mirage-video-2")
    await fetch(`${baseUrl}/v1/videos`, { method: "POST", headers: key, body: badModel })

    // A list page larger than the description's maximum of 100.
    await fetch(`${baseUrl}/v1/videos?limit=500`, { headers: key })

    // No x-api-key at all: the security scheme.
    await fetch(`${baseUrl}/v1/videos/video_abc123def456`)

    const reported = describeViolations(seen.exchanges())
    expect(reported).toEqual(
      expect.arrayContaining([
        "POST /v1/videos → 422: Error [request.body] Request body must have required property 'image_reference'",
        "POST /v1/videos → 422: Error [request.body] Request body must have required property 'audio_reference'",
        expect.stringMatching(/^POST \/v1\/videos → 422: Error \[request\.body\.model\] .*allowed values/),
        expect.stringMatching(/^GET \/v1\/videos\?limit=500 → 422: Error \[request\.query\.limit\] .*<= 100/),
        expect.stringMatching(
          /^GET \/v1\/videos\/video_abc123def456 → 401: Prism error https:\/\/stoplight\.io\/prism\/errors#UNAUTHORIZED/
        )
      ])
    )
    // Each of the four requests is flagged, and the log says so too.
    expect(seen.exchanges().every((e) => e.violations.length > 0 || e.prismError !== undefined)).toBe(true)
    const log = await seen.log()
    expect(
      violationLogLines(log).some((line) =>
        line.includes("Violation: request.body Request body must have required property 'image_reference'")
      )
    ).toBe(true)
    expect(
      violationLogLines(log).some((line) => line.includes("Request terminated with error: https://stoplight.io/prism/errors#UNAUTHORIZED"))
    ).toBe(true)
  })
})
