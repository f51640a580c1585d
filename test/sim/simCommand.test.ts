import { spawn } from "node:child_process"
import { fileURLToPath } from "node:url"
import { describe, expect, it } from "vitest"

const bin = fileURLToPath(new URL("../../bin/clapper.js", import.meta.url))

describe("clapper sim", () => {
  it("prints where it listens, serves the API, and stops on Ctrl-C", async () => {
    const child = spawn(process.execPath, [bin, "sim", "--port", "0", "--no-ffmpeg", "--seed", "3", "--fail-code", "boom"], {
      stdio: ["ignore", "pipe", "pipe"]
    })
    try {
      const line = await new Promise<string>((resolve, reject) => {
        let out = ""
        child.stdout.on("data", (chunk: Buffer) => {
          out += chunk.toString()
          if (out.includes("\n")) resolve(out.split("\n")[0] ?? "")
        })
        child.on("exit", (code) => reject(new Error(`exited with ${code} before listening`)))
      })
      const match = /^Mirage simulator listening on (http:\/\/127\.0\.0\.1:\d+) \(files on (http:\/\/127\.0\.0\.1:\d+)\)$/.exec(line)
      expect(match).not.toBeNull()
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

  it("refuses options it cannot run with, exit code 2", async () => {
    const child = spawn(process.execPath, [bin, "sim", "--port", "0", "--error-rate", "1.5"], { stdio: ["ignore", "pipe", "pipe"] })
    let stderr = ""
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString()
    })
    const code = await new Promise<number | null>((resolve) => child.on("exit", (c) => resolve(c)))
    expect(code).toBe(2)
    expect(stderr).toContain("errorRate")
  })
})
