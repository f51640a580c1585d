/**
 * Kill `clapper run` with SIGKILL at many points of a 30-job campaign (mid submit, after submit,
 * mid poll, mid download, at random instants, so also mid journal write), then run it again
 * until it is done. Every output must exist and be valid, and the simulator, which outlives the
 * runs as the provider would, must have received one submission per render, apart from those
 * the journal itself records as possible duplicates.
 */
import { NodeContext } from "@effect/platform-node"
import { Effect } from "effect"
import { readdirSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { loadPipeline } from "../../src/pipeline/load.ts"
import { planPipeline } from "../../src/plan/plan.ts"
import * as Simulator from "../../src/sim/Simulator.ts"
import { roomyQuotaFlags, watchCliRun, type CliEvent } from "../support/runCli.ts"
import { tempProject } from "../support/tempProject.ts"
import { makeWav } from "../support/wav.ts"
import { roomySim } from "../support/testQuotas.ts"

const jobs = 30

/** Runs the CLI; kills it with SIGKILL when `killWhen` says so (or after `killAfterMs`). */
const runUntil = (cwd: string, baseUrl: string, killWhen: (event: CliEvent, count: number) => boolean, killAfterMs?: number) => {
  let seen = 0
  return watchCliRun(["run", "campaign.yaml", "--base-url", baseUrl, "--json", ...roomyQuotaFlags], {
    cwd,
    env: { MIRAGE_API_KEY: "crash-test-key" },
    onEvent: (event, signal) => {
      if (killWhen(event, ++seen)) signal("SIGKILL")
    },
    ...(killAfterMs !== undefined ? { killAfterMs } : {})
  })
}

describe("crash safety", () => {
  it("SIGKILL at many points, then run again until done: every output valid, one submission per render", async () => {
    const p = tempProject()
    for (let i = 0; i < jobs; i++) p.write(`voice/v${String(i).padStart(2, "0")}.wav`, makeWav(0.3 + (i % 3) * 0.1, 250 + i * 13))
    const file = p.write(
      "campaign.yaml",
      `version: 1
name: campaign
run:
  concurrency: 4
  requestsPerSecond: 200
  retry: { attempts: 6, initialDelay: 20ms, maxDelay: 200ms }
  poll: { interval: 50ms, maxInterval: 300ms }
output: out/{{ audio.stem }}.mp4
sets:
  all:
    matrix: { image: assets/presenters/alice.png, audio: voice/*.wav }
`
    )
    await Effect.runPromise(
      Effect.scoped(
        Effect.gen(function* () {
          const sim = yield* Simulator.make({ ...roomySim, ffmpeg: false, renderFactor: 1, seed: 11 })
          const counting = (type: string, n: number) => {
            let count = 0
            return (event: { type: string }) => event.type === type && ++count === n
          }
          // Each kill lands at a different kind of moment.
          const kills: Array<[(event: CliEvent, seen: number) => boolean, number | undefined]> = [
            [counting("job.submitting", 3), undefined],
            [counting("job.submitted", 2), undefined],
            [counting("job.progress", 5), undefined],
            [counting("job.downloading", 2), undefined],
            [() => false, 700],
            [counting("job.submitting", 1), undefined],
            [() => false, 1300],
            [counting("job.completed", 3), undefined]
          ]
          const codes: Array<number | null> = []
          for (const [when, afterMs] of kills) {
            const code = yield* Effect.promise(() => runUntil(p.root, sim.baseUrl, when, afterMs))
            codes.push(code)
            if (code === 0) break // finished before the kill point: nothing left to interrupt
          }
          // Most runs really were killed midway (a late kill point may find the campaign done).
          expect(codes.filter((c) => c === null).length).toBeGreaterThanOrEqual(5)
          let finalCode: number | null = null
          for (let attempt = 0; attempt < 3 && finalCode !== 0; attempt++) {
            finalCode = yield* Effect.promise(() => runUntil(p.root, sim.baseUrl, () => false))
          }
          expect(finalCode).toBe(0)

          // Every output exists, is an MP4, and nothing partial is left at a final path.
          const outputs = readdirSync(join(p.root, "out"))
          expect(outputs.filter((f) => f.endsWith(".mp4"))).toHaveLength(jobs)
          expect(outputs.filter((f) => !f.endsWith(".mp4"))).toEqual([])
          for (const f of outputs)
            expect(
              readFileSync(join(p.root, "out", f))
                .subarray(4, 8)
                .toString("latin1")
            ).toBe("ftyp")
          expect(Object.keys(JSON.parse(readFileSync(join(p.root, "campaign.lock.json"), "utf8")).outputs)).toHaveLength(jobs)

          // The witness: submissions per render, against the duplicates the journal admits to.
          const plan = yield* planPipeline(yield* loadPipeline(file))
          const journal = readFileSync(join(p.root, ".clapper", "campaign", "journal.jsonl"), "utf8")
            .split("\n")
            .filter(Boolean)
            .map((l) => JSON.parse(l) as { t: string; fp?: string })
          const stats = yield* sim.stats
          for (const job of plan.jobs) {
            const key = `${job.inputs.image.sha256}:${job.inputs.audio!.sha256}`
            const admitted = journal.filter((e) => e.t === "possibleDuplicate" && e.fp === job.fingerprint).length
            // Exactly one where nothing was admitted; a "possible" duplicate may also not have happened
            // (the killed submit never reached the provider), so it is an upper bound.
            const submissions = stats.submissions[key] ?? 0
            if (admitted === 0) expect({ job: job.id, submissions }).toEqual({ job: job.id, submissions: 1 })
            else expect(submissions, job.id).toBeLessThanOrEqual(1 + admitted)
            expect(submissions, job.id).toBeGreaterThanOrEqual(1)
          }
        })
      ).pipe(Effect.provide(NodeContext.layer))
    )
  }, 120_000)
})
