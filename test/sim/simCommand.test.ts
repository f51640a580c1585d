import { type ChildProcessByStdio, spawn } from "node:child_process"
import type { Readable } from "node:stream"
import { fileURLToPath } from "node:url"
import { describe, expect, it } from "vitest"
import { form, postChunked, videoParts } from "./support.ts"

const bin = fileURLToPath(new URL("../../bin/clapper.js", import.meta.url))

type Child = ChildProcessByStdio<null, Readable, Readable>

const start = (args: ReadonlyArray<string>): Child => spawn(process.execPath, [bin, "sim", ...args], { stdio: ["ignore", "pipe", "pipe"] })

/** The first `count` lines the simulator prints (its banner). */
const bannerOf = (child: Child, count: number) =>
  new Promise<ReadonlyArray<string>>((resolve, reject) => {
    let out = ""
    child.stdout.on("data", (chunk: Buffer) => {
      out += chunk.toString()
      const lines = out.split("\n")
      if (lines.length > count) resolve(lines.slice(0, count))
    })
    child.on("exit", (code) => reject(new Error(`exited with ${code} before listening`)))
  })

const listening = /^Mirage simulator listening on (http:\/\/127\.0\.0\.1:\d+) \(files on (http:\/\/127\.0\.0\.1:\d+)\)$/

/** Runs `clapper sim` with options it must refuse: its exit code and what it wrote to stderr. */
const refused = async (args: ReadonlyArray<string>) => {
  const child = start(["--port", "0", ...args])
  let stderr = ""
  child.stderr.on("data", (chunk: Buffer) => {
    stderr += chunk.toString()
  })
  const code = await new Promise<number | null>((resolve) => child.on("exit", (c) => resolve(c)))
  return { code, stderr }
}

describe("clapper sim", () => {
  it("prints where it listens and its quotas, serves the API, and stops on Ctrl-C", async () => {
    const child = start(["--port", "0", "--no-ffmpeg", "--seed", "3", "--fail-code", "boom"])
    try {
      const [line, quotas] = await bannerOf(child, 2)
      const match = listening.exec(line ?? "")
      expect(match).not.toBeNull()
      expect(quotas).toBe("quotas per key: generation 2 per minute, captions 100 per minute, others 300 per minute")
      const stats = await fetch(`${match?.[1]}/__sim/stats`)
      expect(stats.status).toBe(200)
      expect((await fetch(`${match?.[1]}/v1/videos`)).status).toBe(401)
      const exit = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)))
      child.kill("SIGINT")
      expect(await exit).toBe(130)
    } finally {
      if (child.exitCode === null) child.kill("SIGKILL")
    }
  })

  it("takes quotas, --retry-after, --queued-ms and --no-require-content-length", async () => {
    const child = start([
      "--port",
      "0",
      "--no-ffmpeg",
      "--quota",
      "list=1/min",
      "--quota",
      "all=10/s",
      "--quota",
      "generation=60/min",
      "--retry-after",
      "--queued-ms",
      "0",
      "--no-require-content-length"
    ])
    try {
      const [line, quotas] = await bannerOf(child, 2)
      const baseUrl = listening.exec(line ?? "")?.[1] ?? ""
      // `all` sets every kind first, whatever its place; the named kinds then override it.
      expect(quotas).toBe("quotas per key: generation 60 per minute, list 1 per minute, others 10 per second")
      const sim = { baseUrl }
      const headers = { "x-api-key": "k" }
      expect((await fetch(`${baseUrl}/v1/videos`, { headers })).status).toBe(200)
      const limited = await fetch(`${baseUrl}/v1/videos`, { headers })
      expect(limited.status).toBe(429)
      expect(limited.headers.get("retry-after")).toMatch(/^[1-9]\d*$/)
      const speech = new TextEncoder().encode(JSON.stringify({ text: "Hi", model: "mirage-audio-1" }))
      const chunked = await postChunked(sim, "/v1/audio/text-to-speech/v", speech, {
        headers: { ...headers, "content-type": "application/json" }
      })
      expect(chunked.status).toBe(200)
      const created = await fetch(`${baseUrl}/v1/videos`, { method: "POST", body: form(videoParts()), headers })
      expect(((await created.json()) as { status: string }).status).toBe("PROCESSING")
    } finally {
      child.kill("SIGKILL")
    }
  })

  it("refuses options it cannot run with, exit code 2", async () => {
    const errorRate = await refused(["--error-rate", "1.5"])
    expect(errorRate.code).toBe(2)
    expect(errorRate.stderr).toContain("errorRate")
    const queued = await refused(["--queued-ms", "-1"])
    expect(queued.code).toBe(2)
    expect(queued.stderr).toContain("queuedMs")
  })

  it("refuses an unknown kind or a bad rate in --quota as a usage error naming what it accepts", async () => {
    const kind = await refused(["--quota", "uploads=10/min"])
    expect(kind.code).toBe(2)
    expect(kind.stderr).toContain('unknown kind "uploads"')
    expect(kind.stderr).toContain("generation, captions, speech, overlays, status, list, content, templates")
    const rate = await refused(["--quota", "generation=fast"])
    expect(rate.code).toBe(2)
    expect(rate.stderr).toContain('"fast" is not a rate')
    expect(rate.stderr).toContain("2/min")
    const shape = await refused(["--quota", "generation"])
    expect(shape.code).toBe(2)
    expect(shape.stderr).toContain("KIND=RATE")
  })
})
