/**
 * For the report's tests: a small campaign in a throwaway project, rendered by the real `clapper`
 * binary against an in-process simulator (real MP4s, a job that fails), then reported.
 */
import { Effect, Exit, Scope } from "effect"
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { afterEach } from "vitest"
import type { RunEvent } from "../../src/runtime/events.ts"
import * as Simulator from "../../src/sim/Simulator.ts"
import { roomyQuotaFlags, runCli, type CliResult } from "../support/runCli.ts"
import { tempProject, type TempProject } from "../support/tempProject.ts"
import { roomySim } from "../support/testQuotas.ts"
import { makeWav } from "../support/wav.ts"

const closers: Array<() => Promise<void>> = []
afterEach(async () => {
  for (const close of closers.splice(0)) await close()
})

/** A simulator that lives until the end of the test: instant renders, real MP4s unless told. */
export const startSim = async (options: Partial<Simulator.SimulatorOptions> = {}): Promise<Simulator.SimulatorHandle> => {
  const scope = Effect.runSync(Scope.make())
  const handle = await Effect.runPromise(Scope.extend(Simulator.make({ ...roomySim, renderFactor: 0, ...options }), scope))
  closers.push(() => Effect.runPromise(Scope.close(scope, Exit.void)))
  return handle
}

/**
 * With seed 2 and this share of failures, the fourth video the simulator is asked for fails
 * (`generation_failed`); one at a time, that is the campaign's last job.
 */
export const oneFailure = { seed: 2, failRate: 0.3, failCodes: ["generation_failed"] } as const

export interface Campaign {
  readonly project: TempProject
  /** The pipeline file, relative to the project root (where the CLI runs). */
  readonly file: string
  /** Job ids (outputs relative to the root), in plan order. */
  readonly jobs: ReadonlyArray<string>
}

/** Two presenters × two voice tracks, one job at a time, each its own render. */
export const smallCampaign = (name = "campaign", description = "Two presenters, two lines."): Campaign => {
  const project = tempProject()
  project.write("voice/hello.wav", makeWav(1.2, 220))
  project.write("voice/thanks.wav", makeWav(1.4, 330))
  project.write(
    `pipelines/${name}.yaml`,
    `version: 1
name: ${name}
description: ${JSON.stringify(description)}
run: { concurrency: 1, poll: { interval: 100ms, maxInterval: 300ms } }
output: ../renders/${name}/{{image.stem}}--{{audio.stem}}.mp4
sets:
  greetings:
    matrix:
      image: [../assets/presenters/alice.png, ../assets/presenters/bob.jpg]
      audio: ../voice/*.wav
`
  )
  const jobs = ["alice--hello", "alice--thanks", "bob--hello", "bob--thanks"].map((stem) => `renders/${name}/${stem}.mp4`)
  return { project, file: `pipelines/${name}.yaml`, jobs }
}

/** `clapper run FILE --json` (the real binary) against `sim`: its exit code and events. */
export const runAgainst = async (
  sim: Simulator.SimulatorHandle,
  campaign: Campaign,
  ...args: ReadonlyArray<string>
): Promise<{ readonly result: CliResult; readonly events: ReadonlyArray<RunEvent> }> => {
  const result = await runCli(["run", campaign.file, "--base-url", sim.baseUrl, "--json", ...roomyQuotaFlags, ...args], {
    cwd: campaign.project.root,
    env: { MIRAGE_API_KEY: "test-key" }
  })
  const events = result.stdout
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => JSON.parse(line) as RunEvent)
  return { result, events }
}

/** `clapper report …` in the campaign's project. */
export const report = (campaign: Campaign, ...args: ReadonlyArray<string>): Promise<CliResult> =>
  runCli(["report", campaign.file, ...args], { cwd: campaign.project.root })

/** The default report's path and text. */
export const reportPath = (campaign: Campaign): string => join(campaign.project.root, campaign.file.replace(/\.yaml$/, ".report.html"))
export const readReport = (campaign: Campaign, path = reportPath(campaign)): string => readFileSync(path, "utf8")

/** An MP4 as far as the download check looks (an `ftyp` box), with nothing playable after it. */
export const corruptMp4 = (): Uint8Array => {
  const bytes = new Uint8Array(4096).fill(0x5a)
  bytes.set([0, 0, 0, 24], 0)
  bytes.set(new TextEncoder().encode("ftypisom"), 4)
  return bytes
}
