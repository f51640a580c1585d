/**
 * Jobs → plan: every job with its checked inputs, its fingerprints and its estimated cost.
 * `clapper validate` and `clapper plan` both build this; nothing here sends or writes anything.
 */
import { FileSystem, Path } from "@effect/platform"
import { Effect } from "effect"
import type { MediaKind } from "../media/mediaKind.ts"
import { estimateCaptionsCostUsd, estimateSpeechSeconds, estimateVideoCostUsd } from "../mirage/limits.ts"
import { PipelineInvalid } from "../pipeline/diagnostic.ts"
import { expandPipelineAll } from "../pipeline/expand.ts"
import type { Job, OverlaySpec, SpeechSpec } from "../pipeline/job.ts"
import type { LoadedPipeline } from "../pipeline/load.ts"
import { fingerprint, speechFingerprint } from "./fingerprint.ts"
import { factsKey, inputsOf, inspectInputFiles, inspectInputs, type InputFacts } from "../pipeline/inspectInputs.ts"

export const defaultModel = "mirage-video-1-latest"

export interface PlannedInput {
  /** Relative to the pipeline file's folder. */
  readonly path: string
  readonly sha256: string
  readonly size: number
  readonly kind: MediaKind
  readonly durationSeconds?: number
}

/** The remote work behind a job, stage by stage, each keyed by what determines its result. */
export interface PlannedStages {
  /** Text-to-speech making the voice track (keyed by voice, text and model). */
  readonly speech?: SpeechSpec & { readonly fingerprint: string }
  /** The generated video (image + voice + model). */
  readonly video: string
  /** The captioned video, when the set has captions. */
  readonly captions?: { readonly template: string; readonly fingerprint: string }
  readonly overlay?: OverlaySpec
}

export type UnpricedStage = "speech" | "overlays"

export interface PlannedJob {
  /** Output path relative to the project root: the job's identity. */
  readonly id: string
  readonly set: string
  readonly index: number
  /** Absolute output path. */
  readonly output: string
  readonly model: string
  /** What determines this output: inputs, model, every stage's parameters, recipe version. */
  readonly fingerprint: string
  readonly inputs: { readonly image: PlannedInput; readonly audio?: PlannedInput }
  readonly stages: PlannedStages
  /** The voice track's length in seconds: read from the file, or estimated from a script's length. */
  readonly durationSeconds: number
  /** This job's video and captions at published prices. Stages shared with other jobs are paid once. */
  readonly estimatedCostUsd: number
  readonly costUsd: { readonly video: number; readonly captions?: number }
  /** Stages whose price is not published: not in the estimate. */
  readonly unpricedStages: ReadonlyArray<UnpricedStage>
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
    /** Distinct outputs to produce (jobs sharing a fingerprint share one). */
    readonly renders: number
    /** Each video and captioning paid once, however many outputs share it. */
    readonly estimatedCostUsd: number
    /** Stages present whose price is unknown, so the estimate leaves them out. */
    readonly unpricedStages: ReadonlyArray<UnpricedStage>
  }
}

const planned = (file: Job["image"], facts: InputFacts): PlannedInput => ({
  path: file.relative,
  sha256: facts.sha256,
  size: facts.size,
  kind: facts.kind,
  ...(facts.durationSeconds !== undefined ? { durationSeconds: facts.durationSeconds } : {})
})

const cents = (usd: number) => Math.round(usd * 100) / 100

const planJob = (job: Job, model: string, facts: ReadonlyMap<string, InputFacts>): PlannedJob => {
  // A plan is built only when every input of every job was read without a problem.
  const image = facts.get(factsKey("image", job.image.path)) as InputFacts
  const audio = job.audio ? (facts.get(factsKey("audio", job.audio.path)) as InputFacts) : undefined
  const speech = job.speech ? { ...job.speech, fingerprint: speechFingerprint(job.speech) } : undefined
  // A spoken track's bytes do not exist before the (paid) request: its own fingerprint stands in.
  const voice = audio?.sha256 ?? (speech as { fingerprint: string }).fingerprint
  const video = fingerprint({ model, image: image.sha256, audio: voice })
  const captions = job.captions
    ? {
        template: job.captions.template,
        fingerprint: fingerprint({ model, image: image.sha256, audio: voice, stages: { captions: job.captions } })
      }
    : undefined
  const stageParameters = {
    ...(job.captions ? { captions: job.captions } : {}),
    ...(job.overlay
      ? { overlay: { text: job.overlay.text, font: job.overlay.font, size: job.overlay.size, color: job.overlay.color } }
      : {})
  }
  const durationSeconds = audio?.durationSeconds ?? estimateSpeechSeconds(job.speech?.text ?? "")
  const costUsd = {
    video: estimateVideoCostUsd(durationSeconds),
    ...(captions ? { captions: estimateCaptionsCostUsd(durationSeconds) } : {})
  }
  return {
    id: job.id,
    set: job.set,
    index: job.index,
    output: job.output,
    model,
    fingerprint:
      Object.keys(stageParameters).length === 0
        ? video
        : fingerprint({ model, image: image.sha256, audio: voice, stages: stageParameters }),
    inputs: { image: planned(job.image, image), ...(job.audio && audio ? { audio: planned(job.audio, audio) } : {}) },
    stages: { ...(speech ? { speech } : {}), video, ...(captions ? { captions } : {}), ...(job.overlay ? { overlay: job.overlay } : {}) },
    durationSeconds,
    estimatedCostUsd: cents(costUsd.video + (costUsd.captions ?? 0)),
    costUsd,
    unpricedStages: [...(speech ? (["speech"] as const) : []), ...(job.overlay ? (["overlays"] as const) : [])],
    job
  }
}

const buildPlan = (pipeline: LoadedPipeline, jobs: ReadonlyArray<Job>, facts: ReadonlyMap<string, InputFacts>): Plan => {
  const model = pipeline.spec.provider?.model ?? defaultModel
  const plannedJobs = jobs.map((job) => planJob(job, model, facts))
  const videos = new Map(plannedJobs.map((j) => [j.stages.video, j.costUsd.video]))
  const captions = new Map(
    plannedJobs.flatMap((j) => (j.stages.captions ? [[j.stages.captions.fingerprint, j.costUsd.captions ?? 0] as const] : []))
  )
  const sum = (m: ReadonlyMap<string, number>) => [...m.values()].reduce((a, b) => a + b, 0)
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
      renders: new Set(plannedJobs.map((j) => j.fingerprint)).size,
      estimatedCostUsd: cents(sum(videos) + sum(captions)),
      unpricedStages: [...new Set(plannedJobs.flatMap((j) => j.unpricedStages))]
    }
  }
}

/** Builds the plan for jobs already expanded; every input is read and checked. */
export const planJobs = (
  pipeline: LoadedPipeline,
  jobs: ReadonlyArray<Job>
): Effect.Effect<Plan, PipelineInvalid, FileSystem.FileSystem | Path.Path> =>
  Effect.map(inspectInputs(jobs), (facts) => buildPlan(pipeline, jobs, facts))

/**
 * Expand and plan a loaded pipeline in one pass: the inputs of every job the expansion could
 * make (and of those a broken template kept from being made) are read even when the expansion
 * found problems, and all the problems are reported together.
 */
export const planPipeline = (pipeline: LoadedPipeline): Effect.Effect<Plan, PipelineInvalid, FileSystem.FileSystem | Path.Path> =>
  Effect.gen(function* () {
    const expanded = yield* expandPipelineAll(pipeline)
    // Every job's inputs are among them; listed again, each is still read once.
    const inspected = yield* inspectInputFiles([...inputsOf(expanded.jobs), ...expanded.inputs])
    const diagnostics = [...expanded.diagnostics, ...inspected.diagnostics]
    if (diagnostics.length > 0) return yield* Effect.fail(new PipelineInvalid({ diagnostics }))
    return buildPlan(pipeline, expanded.jobs, inspected.facts)
  })
