/**
 * The baseline: the script a user writes instead of Clapper. `p-limit` over the pairs, a
 * multipart POST with `fetch` + `FormData` + `fs.openAsBlob`, a fixed-interval polling loop, and
 * a download with `fetch` (the redirect followed by hand, so the API key never reaches the file
 * host), written straight to the output path. It keeps no state between runs.
 *
 *   MIRAGE_API_KEY=… npx tsx bench/baseline.ts --jobs jobs.json --base-url URL
 *     [--concurrency 25] [--poll-ms 5000] [--retry-ms 1000] [--attempts 5] [--skip-existing] [--log FILE]
 *
 * jobs.json: `[{ "image": "img/a.png", "audio": "wav/a.wav", "output": "out/a.mp4" }]`, paths
 * relative to the file's folder.
 *
 * What it does when something goes wrong — what a simple script does, no more:
 * - A request answered 429 or 5xx, or one that throws (connection reset, refused, a download
 *   cut short), is tried again after a fixed pause (`--retry-ms`, default 1 s; `Retry-After` is
 *   not read), up to `--attempts` times (default 5) in all. Any other status fails the job.
 *   The POST is retried like any other request: after a reset the video may already exist, and
 *   the script cannot know (the API has no idempotency key), so it may pay twice.
 * - A video that ends FAILED is submitted again (whatever its error code), up to `--attempts`
 *   submissions per pair; CANCELLED fails the job.
 * - A failed job is logged and the others go on; the exit code is 1 if any failed.
 * - No rate limit of its own, no timeout, no verification of the downloaded bytes, no journal:
 *   running it again renders everything again (or, with `--skip-existing`, skips every output
 *   that exists, whatever it holds and whether or not its inputs changed).
 *
 * `--log FILE` is instrumentation for the benchmarks, not part of what a user would write: per
 * job, when it was submitted, polled and downloaded, written once at the end.
 */
import pLimit from "p-limit"
import { createWriteStream, existsSync, openAsBlob, readFileSync, writeFileSync } from "node:fs"
import { mkdir } from "node:fs/promises"
import { basename, dirname, resolve } from "node:path"
import { Readable } from "node:stream"
import { pipeline } from "node:stream/promises"
import type { ReadableStream } from "node:stream/web"
import { parseArgs } from "node:util"

const { values: options } = parseArgs({
  options: {
    jobs: { type: "string" },
    "base-url": { type: "string" },
    concurrency: { type: "string", default: "25" },
    "poll-ms": { type: "string", default: "5000" },
    "retry-ms": { type: "string", default: "1000" },
    attempts: { type: "string", default: "5" },
    "skip-existing": { type: "boolean", default: false },
    log: { type: "string" }
  }
})

const apiKey = process.env["MIRAGE_API_KEY"]
if (!options.jobs || !options["base-url"] || !apiKey) {
  console.error("usage: MIRAGE_API_KEY=… tsx bench/baseline.ts --jobs jobs.json --base-url URL [--concurrency N] [--poll-ms MS]")
  process.exit(2)
}
const baseUrl = options["base-url"].replace(/\/+$/, "")
const concurrency = Number(options.concurrency)
const pollMs = Number(options["poll-ms"])
const retryMs = Number(options["retry-ms"])
const attempts = Number(options.attempts)
const root = dirname(resolve(options.jobs))
const jobs = JSON.parse(readFileSync(options.jobs, "utf8")) as Array<{ image: string; audio: string; output: string }>

interface Video {
  id: string
  status: "QUEUED" | "PROCESSING" | "COMPLETE" | "FAILED" | "CANCELLED"
  progress: number | null
  error: { code: string; message: string } | null
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string
  ) {
    super(message)
  }
}

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms))

// Instrumentation (--log): what happened to each job, and when.
interface JobLog {
  output: string
  submits: Array<{ sentAt: number; answeredAt: number; videoId: string }>
  statusRequests: number
  failedVideos: number
  downloadStartedAt?: number
  doneAt?: number
  error?: string
}
const counts = { requests: 0, retries: 0, byStatus: {} as Record<string, number> }
const logs: Array<JobLog> = []
const startedAt = Date.now()

/** 429, 5xx and thrown errors are tried again after a fixed pause; anything else fails at once. */
const withRetry = async <T>(request: () => Promise<T>): Promise<T> => {
  for (let attempt = 1; ; attempt++) {
    try {
      return await request()
    } catch (error) {
      const transient = !(error instanceof HttpError) || error.status === 429 || error.status >= 500
      if (!transient || attempt >= attempts) throw error
      counts.retries++
      await sleep(retryMs)
    }
  }
}

const api = async (path: string, init: RequestInit = {}): Promise<Response> => {
  counts.requests++
  const response = await fetch(`${baseUrl}${path}`, { ...init, headers: { "x-api-key": apiKey } }).catch((error: unknown) => {
    counts.byStatus["network"] = (counts.byStatus["network"] ?? 0) + 1
    throw error
  })
  counts.byStatus[response.status] = (counts.byStatus[response.status] ?? 0) + 1
  return response
}

const failFor = async (what: string, response: Response): Promise<never> => {
  throw new HttpError(response.status, `${what}: HTTP ${response.status} ${await response.text()}`)
}

const submit = async (job: { image: string; audio: string }): Promise<Video> => {
  const form = new FormData()
  form.append("image_reference", await openAsBlob(resolve(root, job.image)), basename(job.image))
  form.append("audio_reference", await openAsBlob(resolve(root, job.audio)), basename(job.audio))
  form.append("model", "mirage-video-1-latest")
  const response = await api("/v1/videos", { method: "POST", body: form })
  if (!response.ok) return failFor("POST /v1/videos", response)
  return (await response.json()) as Video
}

const getVideo = async (id: string): Promise<Video> => {
  const response = await api(`/v1/videos/${id}`)
  if (!response.ok) return failFor(`GET /v1/videos/${id}`, response)
  return (await response.json()) as Video
}

const download = async (id: string, output: string): Promise<void> => {
  // Follow the redirect by hand: the file host must not receive the API key.
  const redirect = await api(`/v1/videos/${id}/content`, { redirect: "manual" })
  const location = redirect.headers.get("location")
  await redirect.body?.cancel()
  if (redirect.status < 300 || redirect.status >= 400 || !location)
    throw new HttpError(redirect.status, `content of ${id}: HTTP ${redirect.status}`)
  const file = await fetch(new URL(location, baseUrl))
  if (!file.ok || !file.body) return failFor(`download of ${id}`, file)
  await mkdir(dirname(output), { recursive: true })
  await pipeline(Readable.fromWeb(file.body as ReadableStream<Uint8Array>), createWriteStream(output))
}

const render = async (job: { image: string; audio: string; output: string }, log: JobLog): Promise<void> => {
  const output = resolve(root, job.output)
  if (options["skip-existing"] && existsSync(output)) return
  for (let submission = 1; ; submission++) {
    const sentAt = Date.now()
    let video = await withRetry(() => submit(job))
    log.submits.push({ sentAt, answeredAt: Date.now(), videoId: video.id })
    while (video.status === "QUEUED" || video.status === "PROCESSING") {
      await sleep(pollMs)
      log.statusRequests++
      video = await withRetry(() => getVideo(video.id))
    }
    if (video.status === "COMPLETE") {
      log.downloadStartedAt = Date.now()
      await withRetry(() => download(video.id, output))
      log.doneAt = Date.now()
      return
    }
    log.failedVideos++
    if (video.status !== "FAILED" || submission >= attempts) {
      throw new Error(`${job.output}: ${video.status} ${video.error?.code ?? ""} ${video.error?.message ?? ""}`)
    }
  }
}

const limit = pLimit(concurrency)
let done = 0
let failed = 0
await Promise.all(
  jobs.map((job) =>
    limit(async () => {
      const log: JobLog = { output: job.output, submits: [], statusRequests: 0, failedVideos: 0 }
      logs.push(log)
      try {
        await render(job, log)
        done++
      } catch (error) {
        failed++
        log.error = error instanceof Error ? error.message : String(error)
        console.error(`failed: ${log.error}`)
      }
    })
  )
)
const finishedAt = Date.now()
console.log(`${done} done, ${failed} failed in ${((finishedAt - startedAt) / 1000).toFixed(1)} s`)
if (options.log) writeFileSync(options.log, JSON.stringify({ startedAt, finishedAt, done, failed, counts, jobs: logs }))
process.exitCode = failed > 0 ? 1 : 0
