/**
 * For the subset-run and run-history tests: a small campaign (6 jobs, 5 renders: one output
 * shares the render of another) and the real `clapper` binary run against a simulator that
 * outlives the runs of a test, as the provider would.
 */
import { Effect, Exit, Scope } from "effect"
import { existsSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { afterEach } from "vitest"
import * as Simulator from "../../src/sim/Simulator.ts"
import { roomyQuotaFlags, runCli, type CliResult } from "../support/runCli.ts"
import type { TempProject } from "../support/tempProject.ts"
import { roomySim } from "../support/testQuotas.ts"
import { makeWav } from "../support/wav.ts"

export interface TestSim {
  readonly baseUrl: string
  readonly stats: () => Promise<Simulator.SimStats>
  /** Videos submitted (accepted `POST /v1/videos`). */
  readonly submissions: () => Promise<number>
}

const scopes: Array<Scope.CloseableScope> = []
afterEach(async () => {
  for (const scope of scopes.splice(0).reverse()) await Effect.runPromise(Scope.close(scope, Exit.void))
})

/** A simulator (roomy quotas, instant renders, placeholder MP4s) closed after the test. */
export const startTestSim = async (options: Partial<Simulator.SimulatorOptions> = {}): Promise<TestSim> => {
  const scope = Effect.runSync(Scope.make())
  scopes.push(scope)
  const sim = await Effect.runPromise(Scope.extend(Simulator.make({ ...roomySim, ffmpeg: false, renderFactor: 0, ...options }), scope))
  const stats = () => Effect.runPromise(sim.stats)
  return {
    baseUrl: sim.baseUrl,
    stats,
    submissions: async () => Object.values((await stats()).submissions).reduce((a, b) => a + b, 0)
  }
}

/** The campaign's job ids, in plan order. */
export const campaignJobs = [
  "out/hero/alice.mp4",
  "out/hero/bob.mp4",
  "out/people/p1.mp4",
  "out/people/p2.mp4",
  "out/people/p3.mp4",
  "out/copy/alice.mp4"
] as const

/** Each render's estimate: a short clip is billed as 6 seconds at $0.15. */
export const renderCostUsd = 0.9

/** Writes `campaign.yaml`: sets `hero` (2 pairs), `people` (a matrix of 3) and `copy` (the first hero's render again). */
export const writeCampaign = (project: TempProject): string => {
  for (const [i, name] of ["h1", "h2", "p1", "p2", "p3"].entries())
    project.write(`voice/${name}.wav`, makeWav(0.2 + i * 0.05, 230 + i * 37))
  return project.write(
    "campaign.yaml",
    `version: 1
name: campaign
run:
  concurrency: 4
  requestsPerSecond: 200
  retry: { attempts: 3, initialDelay: 20ms, maxDelay: 100ms }
  poll: { interval: 50ms, maxInterval: 200ms }
sets:
  hero:
    pairs:
      - { image: assets/presenters/alice.png, audio: voice/h1.wav, output: out/hero/alice.mp4 }
      - { image: assets/presenters/bob.jpg, audio: voice/h2.wav, output: out/hero/bob.mp4 }
  people:
    matrix: { image: assets/presenters/carol.png, audio: voice/p*.wav }
    output: out/people/{{audio.stem}}.mp4
  copy:
    pairs:
      - { image: assets/presenters/alice.png, audio: voice/h1.wav, output: out/copy/alice.mp4 }
`
  )
}

/** `clapper ARGS` in the project, a run going to `sim` (with a key and roomy quotas). */
export const clapper = (project: TempProject, args: ReadonlyArray<string>, sim?: TestSim): Promise<CliResult> =>
  runCli([...args, ...(sim ? ["--base-url", sim.baseUrl, ...roomyQuotaFlags] : [])], {
    cwd: project.root,
    env: { MIRAGE_API_KEY: "selection-test-key" }
  })

/** The outputs the lock file records. */
export const lockedOutputs = (project: TempProject): ReadonlyArray<string> => {
  const file = join(project.root, "campaign.lock.json")
  if (!existsSync(file)) return []
  const lock = JSON.parse(readFileSync(file, "utf8")) as { outputs: Record<string, unknown> }
  return Object.keys(lock.outputs).sort()
}

/** Which of the campaign's outputs exist on disk. */
export const outputsOnDisk = (project: TempProject): ReadonlyArray<string> =>
  campaignJobs.filter((id) => existsSync(join(project.root, id)))

/** The NDJSON events of `clapper run --json`. */
export const eventsOf = (result: CliResult): ReadonlyArray<{ readonly type: string } & Record<string, unknown>> =>
  result.stdout
    .trim()
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => JSON.parse(line) as { type: string } & Record<string, unknown>)
