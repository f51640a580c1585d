import { describe, expect, it } from "@effect/vitest"
import { NodeContext } from "@effect/platform-node"
import { spawn, type ChildProcess } from "node:child_process"
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { hostname, tmpdir } from "node:os"
import { join } from "node:path"
import { createInterface } from "node:readline"
import { pathToFileURL } from "node:url"
import { Deferred, Effect, Either, Exit, Fiber, Option } from "effect"
import { afterEach } from "vitest"
import {
  acquireRunnerLock,
  inspectRunnerLock,
  readRunnerLock,
  removeRunnerLock,
  RunnerLocked,
  type LockHolder
} from "../../src/state/runnerLock.ts"
import { repoRoot } from "../support/tempProject.ts"

const made: Array<string> = []
afterEach(() => {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true })
})

/** A state folder that does not exist yet, inside a fresh temporary folder. */
const freshStateDir = () => {
  const root = mkdtempSync(join(tmpdir(), "clapper-lock-"))
  made.push(root)
  return join(root, ".clapper", "t")
}

const lockPath = (dir: string) => join(dir, "runner.lock")
const readLockJson = (dir: string): unknown => JSON.parse(readFileSync(lockPath(dir), "utf8"))
const writeFileAt = (dir: string, name: string, content: string) => {
  mkdirSync(dir, { recursive: true })
  writeFileSync(join(dir, name), content)
}

/** A pid that was just used by a process that has exited. */
const deadPid = () =>
  Effect.promise(
    () =>
      new Promise<number>((resolve, reject) => {
        const child = spawn(process.execPath, ["-e", ""], { stdio: "ignore" })
        const pid = child.pid
        if (pid === undefined) return reject(new Error("no pid"))
        child.on("exit", () => resolve(pid))
      })
  )

/** Linux: `/proc` tells which process a pid is (`procStart`) and which boot this is (`bootId`). */
const hasProc = existsSync("/proc/self/stat")

/** Field 22 of `/proc/<pid>/stat`, counted after the last `)` (the command name may hold `)`). */
const procStartOf = (pid: number | "self"): number => {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8")
  return Number(
    stat
      .slice(stat.lastIndexOf(")") + 1)
      .trim()
      .split(/\s+/)[19]
  )
}
const bootIdNow = () => readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim()

/** The command name a live pid shows in `/proc/<pid>/stat`: spaces and parentheses, to test the parse. */
const awkwardName = "x) y (z"

/** The pid of a process that is running, named `awkwardName`; it is killed when the scope closes. */
const livePid = Effect.acquireRelease(
  Effect.promise(
    () =>
      new Promise<ChildProcess>((resolve, reject) => {
        const script = `process.title = ${JSON.stringify(awkwardName)}; process.stdout.write("ready\\n"); setInterval(() => {}, 1000)`
        const child = spawn(process.execPath, ["-e", script], { stdio: ["ignore", "pipe", "ignore"] })
        child.once("error", reject)
        child.stdout?.once("data", () => resolve(child))
      })
  ),
  (child) =>
    Effect.promise(
      () =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve()
          child.once("exit", () => resolve())
          child.kill()
        })
    )
).pipe(Effect.flatMap((child) => (child.pid === undefined ? Effect.die(new Error("no pid")) : Effect.succeed(child.pid))))

const holderJson = (holder: LockHolder) => `${JSON.stringify({ version: 1, ...holder })}\n`

const lockedReason = (either: Either.Either<unknown, unknown>) =>
  Either.isLeft(either) && either.left instanceof RunnerLocked ? either.left.reason : undefined

describe("runner lock", () => {
  it.scoped("round trip: creates the folder and the lock, removes it when the scope closes", () =>
    Effect.gen(function* () {
      const dir = freshStateDir()
      yield* Effect.scoped(
        Effect.gen(function* () {
          const acquired = yield* acquireRunnerLock(dir, { command: "clapper run t.yaml" })
          expect(acquired.tookOverFrom).toBeUndefined()
          const json = readLockJson(dir)
          expect(json).toEqual({
            version: 1,
            pid: process.pid,
            host: hostname(),
            startedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
            command: "clapper run t.yaml",
            ...(hasProc ? { procStart: procStartOf("self"), bootId: bootIdNow() } : {})
          })
          const held = yield* readRunnerLock(dir)
          expect(Option.map(held, (h) => h.pid)).toEqual(Option.some(process.pid))
        })
      )
      expect(existsSync(lockPath(dir))).toBe(false)
      expect(yield* readRunnerLock(dir)).toEqual(Option.none())
      // No temporary files left behind.
      expect(readdirSync(dir)).toEqual([])
      // And it can be taken again.
      yield* Effect.scoped(acquireRunnerLock(dir, { command: "again" }))
    }).pipe(Effect.provide(NodeContext.layer))
  )

  it.scoped('a second acquire while held fails "alive", naming the holder, and leaves the lock alone', () =>
    Effect.gen(function* () {
      const dir = freshStateDir()
      yield* acquireRunnerLock(dir, { command: "first", pipeline: "pipelines/x.yaml" })
      const before = readFileSync(lockPath(dir), "utf8")
      const second = yield* Effect.either(Effect.scoped(acquireRunnerLock(dir, { command: "second", pipeline: "pipelines/x.yaml" })))
      expect(lockedReason(second)).toBe("alive")
      const error = Either.getLeft(second).pipe(Option.getOrThrow)
      expect(error).toMatchObject({ _tag: "RunnerLocked", holder: { pid: process.pid, host: hostname(), command: "first" } })
      expect(error.message).toMatch(
        new RegExp(
          `^pipelines/x\\.yaml is being run by pid ${process.pid} on .+ since \\d{4}-.+: wait for it, or if it is gone, run clapper unlock pipelines/x\\.yaml$`
        )
      )
      expect(readFileSync(lockPath(dir), "utf8")).toBe(before)
    }).pipe(Effect.provide(NodeContext.layer))
  )

  it.scoped("a stale lock (same host, process gone) is taken over and reported", () =>
    Effect.gen(function* () {
      const dir = freshStateDir()
      const pid = yield* deadPid()
      const stale: LockHolder = { pid, host: hostname(), startedAt: "2026-01-01T00:00:00.000Z", command: "clapper run t.yaml" }
      writeFileAt(dir, "runner.lock", holderJson(stale))
      const acquired = yield* acquireRunnerLock(dir, { command: "clapper run t.yaml" })
      expect(acquired.tookOverFrom).toEqual(stale)
      expect(readLockJson(dir)).toMatchObject({ pid: process.pid, host: hostname() })
      expect(readdirSync(dir)).toEqual(["runner.lock"]) // no takeover guard or temporary file left
      expect(yield* inspectRunnerLock(dir)).toMatchObject({ _tag: "Held", status: "alive" })
    }).pipe(Effect.provide(NodeContext.layer))
  )

  it.scoped("another host's lock is refused, never taken, and the message says how to unlock", () =>
    Effect.gen(function* () {
      const dir = freshStateDir()
      const other: LockHolder = { pid: process.pid, host: `not-${hostname()}`, startedAt: "2026-01-01T00:00:00.000Z", command: "x" }
      writeFileAt(dir, "runner.lock", holderJson(other))
      const result = yield* Effect.either(Effect.scoped(acquireRunnerLock(dir, { command: "y", pipeline: "p.yaml" })))
      expect(lockedReason(result)).toBe("otherHost")
      const error = Either.getLeft(result).pipe(Option.getOrThrow)
      expect(error).toMatchObject({ holder: other })
      expect(error.message).toContain(`pid ${process.pid} on not-${hostname()}`)
      expect(error.message).toMatch(/once you know it is gone, run clapper unlock p\.yaml$/)
      expect(readFileSync(lockPath(dir), "utf8")).toBe(holderJson(other))
      expect(yield* inspectRunnerLock(dir)).toMatchObject({ _tag: "Held", status: "otherHost" })
    }).pipe(Effect.provide(NodeContext.layer))
  )

  it.scoped("an unreadable lock (garbage, empty, another version, bad pid) is refused and kept", () =>
    Effect.gen(function* () {
      const cases = [
        ["{ not json", "it is not JSON"],
        ["", "the file is empty"],
        [`{"version":2,"pid":1,"host":"h","startedAt":"s","command":"c"}`, "not a version 1 runner lock"],
        [`{"version":1,"pid":0,"host":"h","startedAt":"s","command":"c"}`, "pid"]
      ] as const
      for (const [content, problem] of cases) {
        const dir = freshStateDir()
        writeFileAt(dir, "runner.lock", content)
        const result = yield* Effect.either(Effect.scoped(acquireRunnerLock(dir, { command: "y", pipeline: "p.yaml" })))
        expect(lockedReason(result)).toBe("unreadable")
        const error = Either.getLeft(result).pipe(Option.getOrThrow)
        expect(error.problem).toContain(problem)
        expect(error.message).toMatch(/cannot be read .*: if no run of it is going, run clapper unlock p\.yaml$/)
        expect(readFileSync(lockPath(dir), "utf8")).toBe(content)
        const read = yield* Effect.either(readRunnerLock(dir))
        expect(lockedReason(read)).toBe("unreadable")
      }
    }).pipe(Effect.provide(NodeContext.layer))
  )

  it.scoped("concurrent acquires: exactly one wins, on a free lock and on a stale one", () =>
    Effect.gen(function* () {
      for (const startStale of [false, true]) {
        const dir = freshStateDir()
        if (startStale) {
          const pid = yield* deadPid()
          writeFileAt(dir, "runner.lock", holderJson({ pid, host: hostname(), startedAt: "2026-01-01T00:00:00.000Z", command: "old" }))
        }
        const results = yield* Effect.all(
          Array.from({ length: 8 }, (_, i) => Effect.either(acquireRunnerLock(dir, { command: `racer ${i}` }))),
          { concurrency: "unbounded" }
        )
        const winners = results.filter(Either.isRight)
        expect(winners).toHaveLength(1)
        expect(results.filter(Either.isLeft).map(lockedReason)).toEqual(Array(7).fill("alive"))
        if (startStale) expect(winners[0]?.right.tookOverFrom?.command).toBe("old")
      }
    }).pipe(Effect.provide(NodeContext.layer))
  )

  it.effect("released on interruption", () =>
    Effect.gen(function* () {
      const dir = freshStateDir()
      const held = yield* Deferred.make<void>()
      const fiber = yield* Effect.fork(
        Effect.scoped(
          Effect.gen(function* () {
            yield* acquireRunnerLock(dir, { command: "long run" })
            yield* Deferred.succeed(held, undefined)
            return yield* Effect.never
          })
        )
      )
      yield* Deferred.await(held)
      expect(existsSync(lockPath(dir))).toBe(true)
      const exit = yield* Fiber.interrupt(fiber)
      expect(Exit.isInterrupted(exit)).toBe(true)
      expect(existsSync(lockPath(dir))).toBe(false)
    }).pipe(Effect.provide(NodeContext.layer))
  )

  it.effect("release leaves a lock that is no longer ours", () =>
    Effect.gen(function* () {
      const dir = freshStateDir()
      const replacement = holderJson({ pid: process.pid, host: hostname(), startedAt: "2099-01-01T00:00:00.000Z", command: "other" })
      yield* Effect.scoped(
        Effect.gen(function* () {
          yield* acquireRunnerLock(dir, { command: "mine" })
          // Someone ran `clapper unlock --force` and another run took the lock.
          writeFileSync(lockPath(dir), replacement)
        })
      )
      expect(readFileSync(lockPath(dir), "utf8")).toBe(replacement)
    }).pipe(Effect.provide(NodeContext.layer))
  )

  it.effect("removeRunnerLock removes whatever is there; nothing there is fine", () =>
    Effect.gen(function* () {
      const dir = freshStateDir()
      yield* removeRunnerLock(dir)
      writeFileAt(dir, "runner.lock", "garbage")
      writeFileAt(dir, "runner.lock.takeover", "garbage")
      yield* removeRunnerLock(dir)
      expect(readdirSync(dir)).toEqual([])
    }).pipe(Effect.provide(NodeContext.layer))
  )

  it.effect("a state folder that cannot be created fails RunnerLockFailed, not a defect", () =>
    Effect.gen(function* () {
      const dir = freshStateDir()
      writeFileAt(join(dir, ".."), "blocker", "a file, not a folder")
      const result = yield* Effect.either(Effect.scoped(acquireRunnerLock(join(dir, "..", "blocker", "t"), { command: "x" })))
      expect(Either.getLeft(result).pipe(Option.map((e) => e._tag))).toEqual(Option.some("RunnerLockFailed"))
    }).pipe(Effect.provide(NodeContext.layer))
  )
})

describe("runner lock leftovers", () => {
  it.scoped("a temporary lock file of a killed process is removed at the next acquire; a live writer's is kept", () =>
    Effect.gen(function* () {
      const dir = freshStateDir()
      const dead = yield* deadPid()
      // What a SIGKILL between writing and renaming leaves behind.
      writeFileAt(dir, `runner.lock.${dead}-0a1b2c3d4e5f.tmp`, "{}")
      writeFileAt(dir, `runner.lock.takeover.${dead}-0a1b2c3d4e5f.tmp`, "{}")
      writeFileAt(dir, `runner.lock.${process.ppid}-0a1b2c3d4e5f.tmp`, "{}")
      yield* Effect.scoped(acquireRunnerLock(dir, { command: "clapper run t.yaml" }))
      expect(readdirSync(dir).sort()).toEqual([`runner.lock.${process.ppid}-0a1b2c3d4e5f.tmp`])
    }).pipe(Effect.provide(NodeContext.layer))
  )
})

describe("runner lock across processes", () => {
  /**
   * A node process holding the lock module: on `go DIR` it tries the lock on DIR and prints the
   * outcome as JSON; a winner holds the lock until `release`, then prints `{"released":true}`.
   */
  const racerScript = `
    const { acquireRunnerLock } = await import(process.env.LOCK_MODULE)
    const { layer: fsLayer } = await import("@effect/platform-node/NodeFileSystem")
    const { layer: pathLayer } = await import("@effect/platform-node/NodePath")
    const { Effect, Either, Layer } = await import("effect")
    const { createInterface } = await import("node:readline")
    const queue = []
    let wake = () => {}
    createInterface({ input: process.stdin }).on("line", (line) => { queue.push(line); wake() })
    const next = async () => {
      while (queue.length === 0) await new Promise((resolve) => { wake = resolve })
      return queue.shift()
    }
    const say = (value) => process.stdout.write(JSON.stringify(value) + "\\n")
    say({ ready: true })
    for (let command = await next(); command !== "exit"; command = await next()) {
      const dir = command.slice("go ".length)
      const outcome = await Effect.runPromise(
        Effect.scoped(Effect.gen(function* () {
          const acquired = yield* Effect.either(acquireRunnerLock(dir, { command: "racer " + process.pid }))
          if (Either.isLeft(acquired)) return { won: false, reason: acquired.left.reason }
          say({ won: true, tookOverFrom: acquired.right.tookOverFrom?.command ?? null })
          yield* Effect.promise(next)
          return { released: true }
        })).pipe(Effect.provide(Layer.merge(fsLayer, pathLayer)))
      )
      say(outcome)
    }
    process.exit(0)
  `

  interface Racer {
    readonly send: (line: string) => void
    readonly next: () => Promise<{ ready?: boolean; won?: boolean; reason?: string; tookOverFrom?: string | null; released?: boolean }>
    readonly stop: () => Promise<void>
  }

  const startRacer = (): Racer => {
    const child = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", racerScript], {
      cwd: repoRoot,
      env: { ...process.env, LOCK_MODULE: pathToFileURL(join(repoRoot, "src/state/runnerLock.ts")).href },
      stdio: ["pipe", "pipe", "inherit"]
    })
    const lines: Array<string> = []
    const waiters: Array<() => void> = []
    createInterface({ input: child.stdout }).on("line", (line) => {
      lines.push(line)
      for (const w of waiters.splice(0)) w()
    })
    const exited = new Promise<void>((resolve) => child.on("exit", () => resolve()))
    child.stdin.on("error", () => {}) // a racer that already exited
    return {
      send: (line) => child.stdin.write(`${line}\n`),
      stop: async () => {
        child.stdin.end("exit\n")
        const timer = setTimeout(() => child.kill(), 5_000) // a racer stuck holding the lock after a failure
        await exited
        clearTimeout(timer)
      },
      next: async () => {
        while (lines.length === 0) await new Promise<void>((resolve) => waiters.push(resolve))
        return JSON.parse(lines.shift() ?? "null")
      }
    }
  }

  it("four processes racing, round after round, for a free lock and for a stale one: exactly one wins each round", async () => {
    const racers = Array.from({ length: 4 }, startRacer)
    try {
      for (const racer of racers) expect(await racer.next()).toEqual({ ready: true })
      // Many rounds: each is a fresh chance for the racers to interleave badly.
      for (const startStale of [false, false, false, true, true, true, true, true, true, true, true, true, true]) {
        const dir = freshStateDir()
        if (startStale) {
          const pid = await Effect.runPromise(deadPid())
          writeFileAt(dir, "runner.lock", holderJson({ pid, host: hostname(), startedAt: "2026-01-01T00:00:00.000Z", command: "old" }))
        }
        for (const racer of racers) racer.send(`go ${dir}`)
        const outcomes = await Promise.all(racers.map((racer) => racer.next()))
        const winners = racers.filter((_, i) => outcomes[i]?.won === true)
        expect(winners).toHaveLength(1)
        expect(outcomes.filter((o) => o.won !== true).map((o) => o.reason)).toEqual(Array(3).fill("alive"))
        expect(outcomes.find((o) => o.won === true)?.tookOverFrom).toBe(startStale ? "old" : null)
        expect(readLockJson(dir)).toMatchObject({ version: 1, command: expect.stringMatching(/^racer \d+$/) })
        winners[0]?.send("release")
        expect(await winners[0]?.next()).toEqual({ released: true })
        expect(readdirSync(dir)).toEqual([]) // released, no guard or temporary file left
      }
    } finally {
      await Promise.all(racers.map((racer) => racer.stop()))
    }
  })
})

describe.skipIf(!hasProc)("runner lock and pid reuse (Linux /proc)", () => {
  const holderFor = (pid: number, extra: Partial<LockHolder> = {}): LockHolder => ({
    pid,
    host: hostname(),
    startedAt: "2026-01-01T00:00:00.000Z",
    command: "clapper run t.yaml",
    ...extra
  })

  it.scoped('the live test process has a command name with ")" and spaces (so the parse is exercised)', () =>
    Effect.gen(function* () {
      const pid = yield* livePid
      expect(readFileSync(`/proc/${pid}/stat`, "utf8")).toContain(`(${awkwardName})`)
      expect(procStartOf(pid)).toBeGreaterThan(0)
    })
  )

  it.scoped("a lock naming a live pid with another start time (the pid was reused) is stale: taken over", () =>
    Effect.gen(function* () {
      const dir = freshStateDir()
      const pid = yield* livePid
      const stale = holderFor(pid, { procStart: procStartOf(pid) + 1, bootId: bootIdNow() })
      writeFileAt(dir, "runner.lock", holderJson(stale))
      expect(yield* inspectRunnerLock(dir)).toMatchObject({ _tag: "Held", holder: stale, status: "dead" })
      const acquired = yield* acquireRunnerLock(dir, { command: "clapper run t.yaml" })
      expect(acquired.tookOverFrom).toEqual(stale)
      expect(readLockJson(dir)).toMatchObject({ pid: process.pid, host: hostname(), procStart: procStartOf("self") })
      expect(readdirSync(dir)).toEqual(["runner.lock"])
    }).pipe(Effect.provide(NodeContext.layer))
  )

  it.scoped('a lock naming a live pid with its true start time and this boot is refused "alive"', () =>
    Effect.gen(function* () {
      const dir = freshStateDir()
      const pid = yield* livePid
      const holder = holderFor(pid, { procStart: procStartOf(pid), bootId: bootIdNow() })
      writeFileAt(dir, "runner.lock", holderJson(holder))
      const result = yield* Effect.either(Effect.scoped(acquireRunnerLock(dir, { command: "y" })))
      expect(lockedReason(result)).toBe("alive")
      expect(Either.getLeft(result).pipe(Option.getOrThrow)).toMatchObject({ holder })
      expect(readFileSync(lockPath(dir), "utf8")).toBe(holderJson(holder))
      expect(yield* inspectRunnerLock(dir)).toMatchObject({ _tag: "Held", status: "alive" })
    }).pipe(Effect.provide(NodeContext.layer))
  )

  it.scoped("a lock from another boot is stale, even though its pid is alive with that start time now", () =>
    Effect.gen(function* () {
      const dir = freshStateDir()
      const pid = yield* livePid
      const otherBoot =
        bootIdNow() === "00000000-0000-4000-8000-000000000000"
          ? "11111111-1111-4111-8111-111111111111"
          : "00000000-0000-4000-8000-000000000000"
      const stale = holderFor(pid, { procStart: procStartOf(pid), bootId: otherBoot })
      writeFileAt(dir, "runner.lock", holderJson(stale))
      const acquired = yield* acquireRunnerLock(dir, { command: "clapper run t.yaml" })
      expect(acquired.tookOverFrom).toEqual(stale)
      expect(readLockJson(dir)).toMatchObject({ pid: process.pid, bootId: bootIdNow() })
    }).pipe(Effect.provide(NodeContext.layer))
  )

  it.scoped("a lock with the new fields whose process is gone is stale", () =>
    Effect.gen(function* () {
      const dir = freshStateDir()
      const pid = yield* deadPid()
      const stale = holderFor(pid, { procStart: 12345, bootId: bootIdNow() })
      writeFileAt(dir, "runner.lock", holderJson(stale))
      const acquired = yield* acquireRunnerLock(dir, { command: "clapper run t.yaml" })
      expect(acquired.tookOverFrom).toEqual(stale)
    }).pipe(Effect.provide(NodeContext.layer))
  )

  it.scoped('an old lock (no procStart, no bootId) naming a live pid is still refused "alive"', () =>
    Effect.gen(function* () {
      const dir = freshStateDir()
      const pid = yield* livePid
      const holder = holderFor(pid)
      writeFileAt(dir, "runner.lock", holderJson(holder))
      const result = yield* Effect.either(Effect.scoped(acquireRunnerLock(dir, { command: "y" })))
      expect(lockedReason(result)).toBe("alive")
      expect(Either.getLeft(result).pipe(Option.getOrThrow)).toMatchObject({ holder })
      expect(readFileSync(lockPath(dir), "utf8")).toBe(holderJson(holder))
    }).pipe(Effect.provide(NodeContext.layer))
  )
})
