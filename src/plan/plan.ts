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
import { factsKey, inspectInputFiles, inspectInputs, type InputFacts } from "../pipeline/inspectInputs.ts"

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

/**
 * What jobs reading the same file share, made once per file and role: its facts and its planned
 * form (a campaign of a million rows names a few hundred files; the plan holds one object each).
 */
interface InputPlan {
  readonly facts: InputFacts
  readonly planned: PlannedInput
}

const inputPlans = (facts: ReadonlyMap<string, InputFacts>) => {
  const known = { image: new Map<string, InputPlan>(), audio: new Map<string, InputPlan>() }
  return (role: "image" | "audio", file: Job["image"]): InputPlan => {
    const found = known[role].get(file.path)
    if (found !== undefined) return found
    // A plan is built only when every input of every job was read without a problem.
    const fact = facts.get(factsKey(role, file.path)) as InputFacts
    const made = { facts: fact, planned: planned(file, fact) }
    known[role].set(file.path, made)
    return made
  }
}

/** The stages without a published price, one array per combination. */
const unpriced: Record<"none" | "speech" | "overlays" | "both", ReadonlyArray<UnpricedStage>> = {
  none: [],
  speech: ["speech"],
  overlays: ["overlays"],
  both: ["speech", "overlays"]
}

/** What a job with no stages but the video (an image and an audio file) has in common with every job of the same files. */
type SharedRender = Pick<
  PlannedJob,
  "fingerprint" | "inputs" | "stages" | "durationSeconds" | "estimatedCostUsd" | "costUsd" | "unpricedStages"
>

/**
 * A job's plan. Jobs of the same image and audio files and no other stage share everything but
 * their identity: that part is made once per pair of files (its fingerprint hashed once), and
 * a million jobs over a few hundred files hold a few thousand such parts.
 */
const jobPlanner = (model: string, inputPlan: ReturnType<typeof inputPlans>) => {
  const shared = new Map<InputPlan, Map<InputPlan, SharedRender>>()
  return (job: Job): PlannedJob => {
    if (job.audio === undefined || job.speech !== undefined || job.captions !== undefined || job.overlay !== undefined) {
      return planJob(job, model, inputPlan)
    }
    const imagePlan = inputPlan("image", job.image)
    const audioPlan = inputPlan("audio", job.audio)
    let byAudio = shared.get(imagePlan)
    if (byAudio === undefined) {
      byAudio = new Map()
      shared.set(imagePlan, byAudio)
    }
    const render = byAudio.get(audioPlan)
    if (render === undefined) {
      // The first job of these files: its own plan holds the parts the others share.
      const first = planJob(job, model, inputPlan)
      byAudio.set(audioPlan, first)
      return first
    }
    const { fingerprint, inputs, stages, durationSeconds, estimatedCostUsd, costUsd, unpricedStages } = render
    return {
      id: job.id,
      set: job.set,
      index: job.index,
      output: job.output,
      model,
      fingerprint,
      inputs,
      stages,
      durationSeconds,
      estimatedCostUsd,
      costUsd,
      unpricedStages,
      job
    }
  }
}

const planJob = (job: Job, model: string, inputPlan: ReturnType<typeof inputPlans>): PlannedJob => {
  const imagePlan = inputPlan("image", job.image)
  const audioPlan = job.audio ? inputPlan("audio", job.audio) : undefined
  const image = imagePlan.facts
  const audio = audioPlan?.facts
  if (audioPlan !== undefined && audio !== undefined && !job.speech && !job.captions && !job.overlay) {
    // The common job, written out: the objects below, built of spreads, would be slower to make and to collect.
    const video = fingerprint({ model, image: image.sha256, audio: audio.sha256 })
    const durationSeconds = audio.durationSeconds ?? estimateSpeechSeconds("")
    const costUsd = { video: estimateVideoCostUsd(durationSeconds) }
    return {
      id: job.id,
      set: job.set,
      index: job.index,
      output: job.output,
      model,
      fingerprint: video,
      inputs: { image: imagePlan.planned, audio: audioPlan.planned },
      stages: { video },
      durationSeconds,
      estimatedCostUsd: cents(costUsd.video + 0),
      costUsd,
      unpricedStages: unpriced.none,
      job
    }
  }
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
    inputs: { image: imagePlan.planned, ...(audioPlan ? { audio: audioPlan.planned } : {}) },
    stages: { ...(speech ? { speech } : {}), video, ...(captions ? { captions } : {}), ...(job.overlay ? { overlay: job.overlay } : {}) },
    durationSeconds,
    estimatedCostUsd: cents(costUsd.video + (costUsd.captions ?? 0)),
    costUsd,
    unpricedStages: unpriced[speech ? (job.overlay ? "both" : "speech") : job.overlay ? "overlays" : "none"],
    job
  }
}

/** What some jobs cost together: each video and captioning paid once, however many outputs share it. */
export interface CostTally {
  readonly add: (job: PlannedJob) => void
  readonly usd: () => number
}

export const makeCostTally = (): CostTally => {
  const videos = new Map<string, number>()
  const captions = new Map<string, number>()
  const sum = (m: ReadonlyMap<string, number>) => {
    let total = 0
    for (const usd of m.values()) total += usd
    return total
  }
  return {
    add: (job) => {
      videos.set(job.stages.video, job.costUsd.video)
      if (job.stages.captions) captions.set(job.stages.captions.fingerprint, job.costUsd.captions ?? 0)
    },
    usd: () => cents(sum(videos) + sum(captions))
  }
}

const buildPlan = (pipeline: LoadedPipeline, jobs: ReadonlyArray<Job>, facts: ReadonlyMap<string, InputFacts>): Plan => {
  const model = pipeline.spec.provider?.model ?? defaultModel
  const plannedJobs = jobs.map(jobPlanner(model, inputPlans(facts)))
  // In loops, not through arrays of pairs: a plan may have a million jobs.
  const cost = makeCostTally()
  const fingerprints = new Set<string>()
  const unpricedStages = new Set<UnpricedStage>()
  for (const j of plannedJobs) {
    cost.add(j)
    fingerprints.add(j.fingerprint)
    for (const stage of j.unpricedStages) unpricedStages.add(stage)
  }
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
      renders: fingerprints.size,
      estimatedCostUsd: cost.usd(),
      unpricedStages: [...unpricedStages]
    }
  }
}

/** Builds the plan for jobs already expanded; every input is read and checked. */
export const planJobs = (
  pipeline: LoadedPipeline,
  jobs: ReadonlyArray<Job>
): Effect.Effect<Plan, PipelineInvalid, FileSystem.FileSystem | Path.Path> =>
  Effect.map(inspectInputs(jobs), (facts) => buildPlan(pipeline, jobs, facts))

/** Every job with the facts of its inputs, or every problem of the pipeline (see `planPipeline`). */
const checkedJobs = (
  pipeline: LoadedPipeline
): Effect.Effect<
  { readonly jobs: ReadonlyArray<Job>; readonly facts: ReadonlyMap<string, InputFacts> },
  PipelineInvalid,
  FileSystem.FileSystem | Path.Path
> =>
  Effect.gen(function* () {
    const expanded = yield* expandPipelineAll(pipeline)
    // Every job's inputs are among them (and those of jobs a broken template kept from being made).
    const inspected = yield* inspectInputFiles(expanded.inputs)
    const diagnostics = [...expanded.diagnostics, ...inspected.diagnostics]
    if (diagnostics.length > 0) return yield* Effect.fail(new PipelineInvalid({ diagnostics }))
    return { jobs: expanded.jobs, facts: inspected.facts }
  })

/**
 * Expand and plan a loaded pipeline in one pass: the inputs of every job the expansion could
 * make (and of those a broken template kept from being made) are read even when the expansion
 * found problems, and all the problems are reported together.
 */
export const planPipeline = (pipeline: LoadedPipeline): Effect.Effect<Plan, PipelineInvalid, FileSystem.FileSystem | Path.Path> =>
  Effect.map(checkedJobs(pipeline), ({ jobs, facts }) => buildPlan(pipeline, jobs, facts))

/**
 * Every check `planPipeline` makes, and the jobs, without building the plan (fingerprints,
 * costs): what `clapper validate` needs, a fifth less work on a large campaign.
 */
export const checkPipeline = (
  pipeline: LoadedPipeline
): Effect.Effect<ReadonlyArray<Job>, PipelineInvalid, FileSystem.FileSystem | Path.Path> =>
  Effect.map(checkedJobs(pipeline), ({ jobs }) => jobs)
