import { Command } from "@effect/cli"
import { NodeContext } from "@effect/platform-node"
import { spawn } from "node:child_process"
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs"
import { hostname } from "node:os"
import { join } from "node:path"
import { Cause, Effect, Exit, Option } from "effect"
import { afterEach, describe, expect, it, vi } from "vitest"
import { CliExit, exitCodeOf } from "../../src/cli/exitCode.ts"
import { unlockCommand } from "../../src/cli/unlockCommand.ts"
import type { LockHolder } from "../../src/state/runnerLock.ts"
import { runCli } from "../support/runCli.ts"
import { tempProject, type TempProject } from "../support/tempProject.ts"

const pipelineYaml = "version: 1\nname: t\nsets:\n  a: { pairs: [{ image: assets/presenters/alice.png, audio: assets/voice/hello.wav }] }\n"

const project = () => {
  const p = tempProject()
  const file = p.write("pipelines/t.yaml", pipelineYaml)
  return { p, file, lockFile: join(p.root, "pipelines", ".clapper", "t", "runner.lock") }
}

const writeLock = (lockFile: string, content: string) => {
  mkdirSync(join(lockFile, ".."), { recursive: true })
  writeFileSync(lockFile, content)
}
const holderJson = (holder: LockHolder) => `${JSON.stringify({ version: 1, ...holder }, null, 2)}\n`

const deadPid = () =>
  new Promise<number>((resolve, reject) => {
    const child = spawn(process.execPath, ["-e", ""], { stdio: "ignore" })
    const pid = child.pid
    if (pid === undefined) return reject(new Error("no pid"))
    child.on("exit", () => resolve(pid))
  })

afterEach(() => {
  vi.restoreAllMocks()
})

/** Runs `clapper unlock ARGS…` in this process: what it printed, and the exit code bin.ts would give. */
const unlock = async (...args: Array<string>) => {
  const out: Array<string> = []
  const err: Array<string> = []
  vi.spyOn(console, "log").mockImplementation((...line: Array<unknown>) => void out.push(line.join(" ")))
  vi.spyOn(console, "error").mockImplementation((...line: Array<unknown>) => void err.push(line.join(" ")))
  const cli = Command.run(unlockCommand, { name: "clapper", version: "0.1.0" })
  const exit = await Effect.runPromiseExit(cli(["node", "clapper", ...args]).pipe(Effect.provide(NodeContext.layer)))
  vi.restoreAllMocks()
  const failure = Exit.isFailure(exit) ? Cause.failureOption(exit.cause) : Option.none()
  const exitLines = Option.isSome(failure) && failure.value instanceof CliExit ? failure.value.lines : []
  return { code: exitCodeOf(exit), stdout: out, stderr: [...err, ...exitLines] }
}

describe("clapper unlock (the command)", () => {
  it("no lock: says so, exit 0", async () => {
    const { file } = project()
    expect(await unlock(file)).toEqual({ code: 0, stdout: [`${file} is not locked: nothing to remove`], stderr: [] })
  })

  it("a lock whose process is gone: removed, naming who held it", async () => {
    const { file, lockFile } = project()
    const pid = await deadPid()
    writeLock(lockFile, holderJson({ pid, host: hostname(), startedAt: "2026-03-01T10:00:00.000Z", command: "clapper run t.yaml" }))
    const result = await unlock(file)
    expect(result).toEqual({
      code: 0,
      stdout: [`removed the lock held by pid ${pid} on ${hostname()} since 2026-03-01T10:00:00.000Z`],
      stderr: []
    })
    expect(existsSync(lockFile)).toBe(false)
  })

  it("another host's lock: removed (the person running unlock knows that run is gone)", async () => {
    const { file, lockFile } = project()
    writeLock(lockFile, holderJson({ pid: process.pid, host: "ci-runner-7", startedAt: "2026-03-01T10:00:00.000Z", command: "x" }))
    const result = await unlock(file)
    expect(result.code).toBe(0)
    expect(result.stdout).toEqual([`removed the lock held by pid ${process.pid} on ci-runner-7 since 2026-03-01T10:00:00.000Z`])
    expect(existsSync(lockFile)).toBe(false)
  })

  it("an unreadable lock: removed", async () => {
    const { file, lockFile } = project()
    writeLock(lockFile, "{ half a lock")
    const result = await unlock(file)
    expect(result).toEqual({ code: 0, stdout: ["removed an unreadable lock (it is not JSON)"], stderr: [] })
    expect(existsSync(lockFile)).toBe(false)
  })

  it("a live holder on this host: refused with exit 2 and kept, unless --force", async () => {
    const { file, lockFile } = project()
    const content = holderJson({ pid: process.pid, host: hostname(), startedAt: "2026-03-01T10:00:00.000Z", command: "clapper run t.yaml" })
    writeLock(lockFile, content)
    const refused = await unlock(file)
    expect(refused.code).toBe(2)
    expect(refused.stdout).toEqual([])
    expect(refused.stderr.join("\n")).toContain(`is being run by pid ${process.pid} on ${hostname()}`)
    expect(refused.stderr.join("\n")).toContain("--force")
    expect(readFileSync(lockFile, "utf8")).toBe(content)

    const forced = await unlock("--force", file)
    expect(forced.code).toBe(0)
    expect(forced.stdout).toEqual([`removed the lock held by pid ${process.pid} on ${hostname()} since 2026-03-01T10:00:00.000Z`])
    expect(forced.stderr.join("\n")).toMatch(/warning: pid \d+ is still running on this host/)
    expect(existsSync(lockFile)).toBe(false)
  })

  it("an invalid pipeline: its diagnostics, exit 2", async () => {
    const p = tempProject()
    const file = p.write("bad.yaml", "version: 3\nname: bad\nsets: {}\n")
    const result = await unlock(file)
    expect(result.code).toBe(2)
    expect(result.stderr.join("\n")).toContain("version: this Clapper reads pipeline files of version 1")
  })
})

describe("clapper unlock (the real binary)", () => {
  const lockAt = (p: TempProject) => join(p.root, ".clapper", "t", "runner.lock")

  it("removes a stale lock and names its holder; says so when there is none", async () => {
    const p = tempProject()
    p.write("t.yaml", pipelineYaml)
    const pid = await deadPid()
    writeLock(lockAt(p), holderJson({ pid, host: hostname(), startedAt: "2026-03-01T10:00:00.000Z", command: "clapper run t.yaml" }))
    const removed = await runCli(["unlock", "t.yaml"], { cwd: p.root })
    expect(removed).toEqual({
      code: 0,
      stdout: `removed the lock held by pid ${pid} on ${hostname()} since 2026-03-01T10:00:00.000Z\n`,
      stderr: ""
    })
    expect(existsSync(lockAt(p))).toBe(false)
    expect(await runCli(["unlock", "t.yaml"], { cwd: p.root })).toEqual({
      code: 0,
      stdout: "t.yaml is not locked: nothing to remove\n",
      stderr: ""
    })
  })

  it("refuses a live holder with exit 2 and no stack trace", async () => {
    const p = tempProject()
    p.write("t.yaml", pipelineYaml)
    writeLock(lockAt(p), holderJson({ pid: process.pid, host: hostname(), startedAt: "2026-03-01T10:00:00.000Z", command: "x" }))
    const result = await runCli(["unlock", "t.yaml"], { cwd: p.root })
    expect(result.code).toBe(2)
    expect(result.stderr).toContain(`t.yaml is being run by pid ${process.pid}`)
    expect(result.stderr).not.toMatch(/\bat .*\.ts:\d+/)
    expect(existsSync(lockAt(p))).toBe(true)
  })
})
