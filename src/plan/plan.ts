/**
 * Jobs → plan: every job with its checked inputs, its fingerprint and its estimated cost.
 * `clapper validate` and `clapper plan` both build this; nothing here sends or writes anything.
 */
import { FileSystem, Path } from "@effect/platform"
import { Effect } from "effect"
import type { MediaKind } from "../media/mediaKind.ts"
import { estimateVideoCostUsd } from "../mirage/limits.ts"
import type { PipelineInvalid } from "../pipeline/diagnostic.ts"
import { expandPipeline } from "../pipeline/expand.ts"
import type { Job } from "../pipeline/job.ts"
import type { LoadedPipeline } from "../pipeline/load.ts"
import { fingerprint } from "./fingerprint.ts"
import { factsKey, inspectInputs, type InputFacts } from "./inspectInputs.ts"

export const defaultModel = "mirage-video-1-latest"

export interface PlannedInput {
  /** Relative to the pipeline file's folder. */
  readonly path: string
  readonly sha256: string
  readonly size: number
  readonly kind: MediaKind
  readonly durationSeconds?: number
}

export interface PlannedJob {
  /** Output path relative to the project root: the job's identity. */
  readonly id: string
  readonly set: string
  readonly index: number
  /** Absolute output path. */
  readonly output: string
  readonly model: string
  readonly fingerprint: string
  readonly inputs: { readonly image: PlannedInput; readonly audio: PlannedInput }
  /** This job's render at published prices. Jobs sharing a fingerprint share one render. */
  readonly estimatedCostUsd: number
  readonly job: Job
}

export interface Plan {
  readonly pipeline: {
    readonly name: string
    readonly description?: string
    /** The pipeline file as named by the user. */
    readonly file: string
    readonly projectRoot: string
  }
  readonly jobs: ReadonlyArray<PlannedJob>
  readonly totals: {
    readonly jobs: number
    /** Distinct fingerprints: what is actually rendered (and paid). */
    readonly renders: number
    /** Sum over distinct renders. */
    readonly estimatedCostUsd: number
  }
}

const planned = (job: Job, role: "image" | "audio", facts: InputFacts): PlannedInput => ({
  path: job[role].relative,
  sha256: facts.sha256,
  size: facts.size,
  kind: facts.kind,
  ...(facts.durationSeconds !== undefined ? { durationSeconds: facts.durationSeconds } : {})
})

const cents = (usd: number) => Math.round(usd * 100) / 100

/** Builds the plan for jobs already expanded; every input is read and checked. */
export const planJobs = (
  pipeline: LoadedPipeline,
  jobs: ReadonlyArray<Job>
): Effect.Effect<Plan, PipelineInvalid, FileSystem.FileSystem> =>
  Effect.gen(function* () {
    const facts = yield* inspectInputs(jobs)
    const model = pipeline.spec.provider?.model ?? defaultModel
    const plannedJobs = jobs.map((job): PlannedJob => {
      // inspectInputs fails unless it has facts for every input of every job.
      const image = facts.get(factsKey("image", job.image.path)) as InputFacts
      const audio = facts.get(factsKey("audio", job.audio.path)) as InputFacts
      return {
        id: job.id,
        set: job.set,
        index: job.index,
        output: job.output,
        model,
        fingerprint: fingerprint({ model, image: image.sha256, audio: audio.sha256 }),
        inputs: { image: planned(job, "image", image), audio: planned(job, "audio", audio) },
        estimatedCostUsd: estimateVideoCostUsd(audio.durationSeconds ?? 0),
        job
      }
    })
    const renders = new Map(plannedJobs.map((j) => [j.fingerprint, j.estimatedCostUsd]))
    return {
      pipeline: {
        name: pipeline.spec.name,
        ...(pipeline.spec.description !== undefined ? { description: pipeline.spec.description } : {}),
        file: pipeline.file,
        projectRoot: pipeline.projectRoot
      },
      jobs: plannedJobs,
      totals: {
        jobs: plannedJobs.length,
        renders: renders.size,
        estimatedCostUsd: cents([...renders.values()].reduce((a, b) => a + b, 0))
      }
    }
  })

/** Expand and plan a loaded pipeline. */
export const planPipeline = (
  pipeline: LoadedPipeline
): Effect.Effect<Plan, PipelineInvalid, FileSystem.FileSystem | Path.Path> =>
  Effect.flatMap(expandPipeline(pipeline), (jobs) => planJobs(pipeline, jobs))
