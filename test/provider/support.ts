/**
 * Helpers for the provider-fidelity tests: a campaign of distinct renders in a throwaway project,
 * and `runPipeline` against the in-process simulator behind the fault proxy, over real HTTP on
 * loopback. The simulator's counters and the proxy's log are the witnesses.
 */
import { NodeContext } from "@effect/platform-node"
import { Effect } from "effect"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, expect } from "vitest"
import type { RunEvent, RunSummary } from "../../src/runtime/events.ts"
import { runPipeline } from "../../src/app/runPipeline.ts"
import type { RunSettings } from "../../src/runtime/runSettings.ts"
import * as Simulator from "../../src/sim/Simulator.ts"
import { fastSettings } from "../support/fastSettings.ts"
import { type FaultProxy, forwardAll, type LoggedRequest, type Rule, startFaultProxy } from "../support/faultProxy.ts"
import { tempProject, type TempProject } from "../support/tempProject.ts"
import { roomySim } from "../support/testQuotas.ts"
import { makeWav } from "../support/wav.ts"

/**
 * The key quota ledgers of these tests live in a throwaway folder, never the user's own: the runs
 * here pace to real (scaled) quotas, which the ledger shares through files.
 */
const quotaDirs: Array<string> = []
afterAll(() => quotaDirs.splice(0).forEach((dir) => rmSync(dir, { recursive: true, force: true })))

export const freshQuotaDir = (): string => {
  const dir = mkdtempSync(join(tmpdir(), "clapper-provider-quota-"))
  quotaDirs.push(dir)
  process.env.CLAPPER_QUOTA_DIR = dir
  return dir
}
freshQuotaDir()

export interface CampaignOptions {
  /** The project to write it in (default: a fresh one). */
  readonly project?: TempProject
  readonly name?: string
  readonly salt?: number
  /** YAML lines put before `output:` (a `run:` block, say). */
  readonly extra?: string
}

/**
 * The file of a pipeline `name` with `n` jobs, each with its own audio (so each is its own render);
 * `salt` keeps two campaigns of one project apart (different sounds, different fingerprints).
 */
export const campaign = (n: number, options: CampaignOptions = {}): string => {
  const project = options.project ?? tempProject()
  const name = options.name ?? "campaign"
  const salt = options.salt ?? 0
  for (let i = 0; i < n; i++) {
    project.write(`${name}-voice/v${String(i).padStart(3, "0")}.wav`, makeWav(0.25 + (i % 5) * 0.05, 200 + salt * 97 + i * 7))
  }
  return project.write(
    `${name}.yaml`,
    `version: 1
name: ${name}
${options.extra ?? ""}output: out-${name}/{{ audio.stem }}.mp4
sets:
  all:
    matrix: { image: assets/presenters/alice.png, audio: ${name}-voice/*.wav }
`
  )
}

export interface Rig {
  readonly sim: Simulator.SimulatorHandle
  readonly proxy: FaultProxy
}

/**
 * A simulator and the fault proxy in front of its API, both closed with the scope. Downloads go to
 * the simulator's file host directly: these tests are about the API.
 */
export const rig = (sim: Partial<Simulator.SimulatorOptions>, rule: Rule = forwardAll) =>
  Effect.gen(function* () {
    const handle = yield* Simulator.make({ ...roomySim, ffmpeg: false, ...sim })
    const proxy = yield* Effect.acquireRelease(
      Effect.promise(() => startFaultProxy({ api: handle.baseUrl }, rule)),
      (p) => Effect.promise(() => p.close())
    )
    return { sim: handle, proxy } satisfies Rig
  })

export interface RunOptions {
  readonly settings?: Partial<RunSettings>
  readonly shareQuota?: boolean
  readonly apiKey?: string
  /** Sees every event as it is emitted (e.g. to take the API down at a chosen moment). */
  readonly onEvent?: (event: RunEvent) => void
}

export interface RunResult {
  readonly summary: RunSummary
  readonly events: ReadonlyArray<RunEvent>
}

/** `runPipeline` of `file` through the rig's proxy (fast polls and retries unless `settings` say otherwise). */
export const runVia = (r: Rig, file: string, options: RunOptions = {}) =>
  Effect.gen(function* () {
    const events: Array<RunEvent> = []
    const summary = yield* runPipeline(file, {
      backend: { _tag: "Api", baseUrl: r.proxy.baseUrl, apiKey: options.apiKey ?? "test-key", shareQuota: options.shareQuota ?? true },
      baseSettings: { ...fastSettings, ...options.settings },
      emit: (e) =>
        Effect.sync(() => {
          events.push(e)
          options.onEvent?.(e)
        })
    })
    return { summary, events } satisfies RunResult
  })

export interface ProvedRun extends RunResult {
  readonly stats: Simulator.SimStats
  readonly log: ReadonlyArray<LoggedRequest>
}

/** One run of `file` on a fresh simulator behind a fresh proxy: the run, the simulator's stats, the proxy's log. */
export const runThroughProxy = (
  file: string,
  sim: Partial<Simulator.SimulatorOptions>,
  rule: Rule,
  options: RunOptions & { readonly onEventWithProxy?: (event: RunEvent, proxy: FaultProxy) => void } = {}
): Promise<ProvedRun> =>
  Effect.runPromise(
    Effect.scoped(
      Effect.gen(function* () {
        const r = yield* rig(sim, rule)
        const onEvent = options.onEventWithProxy
        const result = yield* runVia(r, file, onEvent ? { ...options, onEvent: (e) => onEvent(e, r.proxy) } : options)
        return { ...result, stats: yield* r.sim.stats, log: [...r.proxy.log] }
      })
    ).pipe(Effect.provide(NodeContext.layer))
  )

/** No job failed, and `n` completed. */
export const expectCompleted = (summary: RunSummary, n: number) => {
  expect(summary.failed).toEqual([])
  expect(summary.completed).toHaveLength(n)
}

/** The events of one type, typed. */
export const eventsOf = <T extends RunEvent["type"]>(events: ReadonlyArray<RunEvent>, type: T) =>
  events.filter((e): e is Extract<RunEvent, { type: T }> => e.type === type)

export const total = (counts: Readonly<Record<string, number>>): number => Object.values(counts).reduce((a, b) => a + b, 0)
