/**
 * Helpers for the simulator tests: start a simulator for a test, talk to it with plain fetch and
 * FormData (as any HTTP client would), and read the example assets.
 */
import { Effect, Exit, Scope } from "effect"
import { spawnSync } from "node:child_process"
import { createHash } from "node:crypto"
import { readFileSync } from "node:fs"
import { request as httpRequest } from "node:http"
import { createRequire } from "node:module"
import { fileURLToPath } from "node:url"
import { uniformQuotas } from "../../src/mirage/quotas.ts"
import * as Simulator from "../../src/sim/Simulator.ts"

export const key = "test-key"

/** Quotas no test that is not about quotas can reach (the default is the provider's 2 generations a minute). */
export const roomyQuotas = uniformQuotas({ count: 100_000, perMs: 60_000 })

export interface RunningSim extends Simulator.SimulatorHandle {
  readonly close: () => Promise<void>
}

export const startSim = async (options?: Partial<Simulator.SimulatorOptions>): Promise<RunningSim> => {
  const scope = Effect.runSync(Scope.make())
  const handle = await Effect.runPromise(Scope.extend(Simulator.make(options), scope))
  return { ...handle, close: () => Effect.runPromise(Scope.close(scope, Exit.void)) }
}

export const asset = (relative: string): Uint8Array =>
  new Uint8Array(readFileSync(fileURLToPath(new URL(`../../examples/assets/${relative}`, import.meta.url))))

export const alicePng = asset("presenters/alice.png")
export const bobJpg = asset("presenters/bob.jpg")
export const helloWav = asset("voice/hello.wav") // 2.0 s
export const welcomeMp3 = asset("voice/welcome.mp3") // ≈ 3.1 s

export const sha256 = (bytes: Uint8Array): string => createHash("sha256").update(bytes).digest("hex")

export type Part = readonly [name: string, value: string | Uint8Array, filename?: string]

export const form = (parts: ReadonlyArray<Part>): FormData => {
  const data = new FormData()
  for (const [name, value, filename] of parts) {
    if (typeof value === "string") data.append(name, value)
    else data.append(name, new Blob([value]), filename ?? `${name}.bin`)
  }
  return data
}

export const videoParts = (image: Uint8Array = alicePng, audio: Uint8Array = helloWav): ReadonlyArray<Part> => [
  ["image_reference", image, "image.png"],
  ["audio_reference", audio, "audio.wav"]
]

/** What the request helpers need of a simulator: where it listens (a handle from `Simulator.make` will do). */
export type Target = Pick<Simulator.SimulatorHandle, "baseUrl">

export const get = (sim: Target, path: string, init: RequestInit = {}) =>
  fetch(`${sim.baseUrl}${path}`, { ...init, headers: { "x-api-key": key, ...init.headers } })

export const post = (sim: Target, path: string, body: FormData | string, init: RequestInit = {}) =>
  fetch(`${sim.baseUrl}${path}`, {
    method: "POST",
    body,
    ...init,
    headers: {
      "x-api-key": key,
      ...(typeof body === "string" ? { "content-type": "application/json" } : {}),
      ...init.headers
    }
  })

/** A POST whose body is a stream: fetch sends it chunked, without Content-Length. */
export const postChunked = (sim: Target, path: string, body: Uint8Array, init: RequestInit = {}) =>
  fetch(`${sim.baseUrl}${path}`, {
    method: "POST",
    body: new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(body)
        controller.close()
      }
    }),
    duplex: "half",
    ...init,
    headers: { "x-api-key": key, ...init.headers }
  } as RequestInit)

/** The bytes and content type fetch would send for a form (so it can be resent another way). */
export const encodedForm = async (data: FormData): Promise<{ bytes: Uint8Array; contentType: string }> => {
  const request = new Request("http://localhost/", { method: "POST", body: data })
  return { bytes: new Uint8Array(await request.arrayBuffer()), contentType: request.headers.get("content-type") ?? "" }
}

export interface Video {
  readonly id: string
  readonly object: string
  readonly status: string
  readonly created_at: number
  readonly completed_at: number | null
  readonly progress: number | null
  readonly error: { readonly code: string; readonly message: string } | null
  readonly model: string | null
  readonly source_video_id: string | null
  readonly caption_template_id: string | null
  readonly share_link_url: string | null
  readonly video_id: string
}

export interface Issue {
  readonly loc: ReadonlyArray<string | number>
  readonly msg: string
  readonly type: string
}

export const createVideo = async (sim: Target, parts: ReadonlyArray<Part> = videoParts()): Promise<Video> => {
  const response = await post(sim, "/v1/videos", form(parts))
  if (response.status !== 200) throw new Error(`POST /v1/videos answered ${response.status}: ${await response.text()}`)
  return (await response.json()) as Video
}

export const getVideo = async (sim: Target, id: string): Promise<Video> => (await (await get(sim, `/v1/videos/${id}`)).json()) as Video

/** The 422 issues of a response (fails the test if it is not a 422). */
export const issuesOf = async (response: Response): Promise<ReadonlyArray<Issue>> => {
  const body = (await response.json()) as { detail: ReadonlyArray<Issue> }
  if (response.status !== 422) throw new Error(`expected 422, got ${response.status}: ${JSON.stringify(body)}`)
  return body.detail
}

export const locs = (issues: ReadonlyArray<Issue>) => issues.map((i) => i.loc.join("."))

/** Polls until `done` holds for the video (or fails after `timeoutMs`), answering every view seen. */
export const pollVideo = async (
  sim: RunningSim,
  id: string,
  done: (video: Video) => boolean,
  timeoutMs = 10_000
): Promise<ReadonlyArray<Video>> => {
  const seen: Array<Video> = []
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const video = await getVideo(sim, id)
    seen.push(video)
    if (done(video)) return seen
    if (Date.now() > deadline) throw new Error(`video ${id} still ${video.status} after ${timeoutMs} ms`)
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
}

/** Where the content of a COMPLETE video redirects to. */
export const contentLocation = async (sim: RunningSim, id: string): Promise<string> => {
  const response = await get(sim, `/v1/videos/${id}/content`, { redirect: "manual" })
  if (response.status !== 302) throw new Error(`content answered ${response.status}: ${await response.text()}`)
  const location = response.headers.get("location")
  if (location === null) throw new Error("302 without Location")
  return location
}

/** Reads a body to its end or until the connection drops, answering what arrived. */
export const readBody = async (response: Response): Promise<{ bytes: Uint8Array; complete: boolean }> => {
  const chunks: Array<Uint8Array> = []
  let complete = true
  const reader = response.body?.getReader()
  if (reader) {
    try {
      for (;;) {
        const { done, value } = await reader.read()
        if (done) break
        chunks.push(value)
      }
    } catch {
      complete = false
    }
  }
  return { bytes: new Uint8Array(Buffer.concat(chunks)), complete }
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** Whether the ffmpeg shipped by @ffmpeg-installer runs here (renders are real MP4s only then). */
export const ffmpegUsable: boolean = (() => {
  try {
    const installer = createRequire(import.meta.url)("@ffmpeg-installer/ffmpeg") as { path: string }
    return spawnSync(installer.path, ["-version"]).status === 0
  } catch {
    return false
  }
})()

/** A copy of an MP4 whose first track header claims another display size (e.g. 16:9). */
export const withDisplaySize = (mp4: Uint8Array, width: number, height: number): Uint8Array => {
  const copy = Uint8Array.from(mp4)
  const view = new DataView(copy.buffer)
  const tkhd = Buffer.from(copy).indexOf("tkhd")
  if (tkhd < 0) throw new Error("no tkhd box")
  const payload = tkhd + 4
  const matrix = payload + (copy[payload] === 1 ? 52 : 40)
  view.setUint32(matrix + 36, width * 65536)
  view.setUint32(matrix + 40, height * 65536)
  return copy
}

/** A real 8 kHz, 8-bit mono PCM WAV of `seconds` of a low tone. */
export const wavOfSeconds = (seconds: number): Uint8Array => {
  const samples = Math.round(seconds * 8000)
  const wav = new Uint8Array(44 + samples)
  const view = new DataView(wav.buffer)
  wav.set(Buffer.from("RIFF"), 0)
  view.setUint32(4, 36 + samples, true)
  wav.set(Buffer.from("WAVEfmt "), 8)
  view.setUint32(16, 16, true)
  view.setUint16(20, 1, true)
  view.setUint16(22, 1, true)
  view.setUint32(24, 8000, true)
  view.setUint32(28, 8000, true)
  view.setUint16(32, 1, true)
  view.setUint16(34, 8, true)
  wav.set(Buffer.from("data"), 36)
  view.setUint32(40, samples, true)
  for (let i = 0; i < samples; i++) wav[44 + i] = 128 + Math.round(40 * Math.sin((2 * Math.PI * 200 * i) / 8000))
  return wav
}

/**
 * A POST sent with node:http, the body written in `chunkBytes` pieces: with `Content-Length`
 * (sized) or without (chunked). Answers the status and body, or the error the client saw
 * (e.g. EPIPE when the server answered and closed before reading the body).
 */
export const rawPost = (
  sim: Target,
  path: string,
  body: Uint8Array,
  options: { readonly sized: boolean; readonly headers?: Record<string, string>; readonly chunkBytes?: number }
): Promise<{ readonly status: number; readonly body: string } | { readonly error: string }> =>
  new Promise((resolve) => {
    const url = new URL(`${sim.baseUrl}${path}`)
    const request = httpRequest({
      host: url.hostname,
      port: url.port,
      path: url.pathname,
      method: "POST",
      headers: { "x-api-key": key, ...(options.sized ? { "content-length": String(body.length) } : {}), ...options.headers }
    })
    request.on("response", (response) => {
      const chunks: Array<Buffer> = []
      response.on("data", (chunk: Buffer) => chunks.push(chunk))
      response.on("end", () => resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString() }))
      response.on("error", (error) => resolve({ error: error.message }))
    })
    request.on("error", (error: NodeJS.ErrnoException) => resolve({ error: error.code ?? error.message }))
    const step = options.chunkBytes ?? 64 * 1024
    let offset = 0
    const writeMore = () => {
      while (offset < body.length) {
        const piece = body.subarray(offset, offset + step)
        offset += piece.length
        if (!request.write(piece)) return void request.once("drain", writeMore)
      }
      request.end()
    }
    writeMore()
  })
