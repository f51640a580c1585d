/**
 * Prism (`@stoplight/prism-cli`, a devDependency) as a child process: a mock server for the
 * provider's published OpenAPI description (schemas/mirage-openapi.yml) that validates every
 * request against it. Loopback only, on a free port, started and stopped by the test.
 *
 * How Prism reports a request that breaks the description (prism-http-server's `server.js`):
 * - a request that is valid except for the security requirement (no `x-api-key`), or that matches
 *   no path or method, is answered by Prism itself with `application/problem+json` whose `type`
 *   is `https://stoplight.io/prism/errors#…` (UNAUTHORIZED, NO_PATH_MATCHED_ERROR, …);
 * - any other violation (body, query, headers, path parameters) is listed in the `sl-violations`
 *   response header, a JSON array of `{ location: ["request", …], severity, code, message }`,
 *   and the mock answers the description's error response (422 here) instead of the 200;
 * - a mock answer that breaks the description is listed there too (`location: ["response", …]`);
 *   with `--errors` it also turns into a 500 problem+json (`…#VIOLATIONS`);
 * - every violation is also logged: `[VALIDATOR] ✖ error Violation: request.body …`, and each
 *   error answer as `Request terminated with error: …`.
 * Prism's exit code says nothing about requests: it only exits (non-zero) when it cannot start.
 */
import { type ChildProcess, spawn } from "node:child_process"
import { readFileSync } from "node:fs"
import { createRequire } from "node:module"
import { connect, createServer } from "node:net"
import { dirname, join } from "node:path"
import { repoRoot } from "../support/tempProject.ts"

export const mirageDescription = join(repoRoot, "schemas", "mirage-openapi.yml")

/** The `prism` bin of the installed package (run with this Node: no shell, no npx, no install script). */
const prismBin = (): string => {
  const require = createRequire(import.meta.url)
  const manifestPath = require.resolve("@stoplight/prism-cli/package.json")
  const manifest = JSON.parse(readFileSync(manifestPath, "utf8")) as { bin: Record<string, string> }
  const bin = manifest.bin["prism"]
  if (bin === undefined) throw new Error(`${manifestPath} has no "prism" bin`)
  return join(dirname(manifestPath), bin)
}

export const prismVersion = (): string => {
  const require = createRequire(import.meta.url)
  return (JSON.parse(readFileSync(require.resolve("@stoplight/prism-cli/package.json"), "utf8")) as { version: string }).version
}

/** A port nobody listens on right now (the OS picks it). */
export const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = createServer()
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const address = server.address()
      const port = typeof address === "object" && address !== null ? address.port : 0
      server.close(() => (port > 0 ? resolve(port) : reject(new Error("no port"))))
    })
  })

const accepts = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port })
    socket.once("connect", () => {
      socket.destroy()
      resolve(true)
    })
    socket.once("error", () => resolve(false))
  })

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

export interface PrismOptions {
  /** `-d`: generate answers from the schemas instead of the description's examples. */
  readonly dynamic?: boolean
  /** `--seed`: makes dynamic answers deterministic (the same answer for every request of an operation). */
  readonly seed?: string
  /** Longest wait for the port to accept connections. */
  readonly readyTimeoutMs?: number
}

export interface Prism {
  readonly port: number
  readonly args: ReadonlyArray<string>
  /** Everything Prism printed so far (stdout and stderr, no colours). */
  readonly log: () => string
  readonly stop: () => Promise<void>
}

const startOnce = async (options: PrismOptions): Promise<Prism> => {
  const port = await freePort()
  const args = [
    "mock",
    mirageDescription,
    "--host",
    "127.0.0.1",
    "--port",
    String(port),
    "--errors",
    ...(options.dynamic === true ? ["--dynamic"] : []),
    ...(options.seed !== undefined ? ["--seed", options.seed] : [])
  ]
  const child: ChildProcess = spawn(process.execPath, [prismBin(), ...args], {
    cwd: repoRoot,
    env: { ...process.env, FORCE_COLOR: "0", NO_COLOR: "1" },
    stdio: ["ignore", "pipe", "pipe"]
  })
  let output = ""
  child.stdout?.on("data", (chunk: Buffer) => (output += chunk.toString()))
  child.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString()))
  let exited: number | string | null | undefined
  const exit = new Promise<void>((resolve) =>
    child.once("exit", (code, signal) => {
      exited = code ?? signal
      resolve()
    })
  )
  const killOnExit = () => child.kill("SIGKILL")
  process.once("exit", killOnExit)

  const stop = async () => {
    process.removeListener("exit", killOnExit)
    if (exited !== undefined) return
    child.kill("SIGTERM")
    const timer = setTimeout(() => child.kill("SIGKILL"), 3_000)
    await exit
    clearTimeout(timer)
  }

  const deadline = Date.now() + (options.readyTimeoutMs ?? 45_000)
  while (!(await accepts(port))) {
    if (exited !== undefined) throw new Error(`prism ${args.join(" ")} exited (${String(exited)}) before listening:\n${output}`)
    if (Date.now() > deadline) {
      await stop()
      throw new Error(`prism ${args.join(" ")} did not listen on 127.0.0.1:${port} in time:\n${output}`)
    }
    await sleep(100)
  }
  return { port, args, log: () => output, stop }
}

/** Starts `prism mock` and resolves once its port accepts connections (retried on a port lost to a race). */
export const startPrism = async (options: PrismOptions = {}): Promise<Prism> => {
  let lastError: unknown
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      return await startOnce(options)
    } catch (error) {
      lastError = error
      if (!String(error).includes("EADDRINUSE")) throw error
    }
  }
  throw lastError
}

/** The lines of a Prism log that report a violation or an answer Prism made up because of one. */
export const violationLogLines = (log: string): ReadonlyArray<string> =>
  log.split("\n").filter((line) => /Violation:|Request terminated with error|\[VALIDATOR\].*(✖|⚠)/.test(line))
