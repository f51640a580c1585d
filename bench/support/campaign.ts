/**
 * A benchmark campaign on disk: a throwaway project folder (marked by package.json) with tiny
 * generated inputs, the Clapper pipeline that renders them (a `rows` set over jobs.csv) and the
 * same pairs as jobs.json for the hand-written baseline. Deterministic: the same spec gives the
 * same bytes, so every contender renders the same campaign.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { dirname, join } from "node:path"
import { flagEnv } from "./env.ts"
import { makePng, makeWav, wavSeconds } from "./media.ts"
import { limitsOf, roomyQuotas } from "./quotas.ts"
import { seededRandom } from "./random.ts"

export interface CampaignJob {
  /** Also the output's stem: out/<id>.mp4. */
  readonly id: string
  /** Relative to the project root. */
  readonly image: string
  readonly audio: string
  readonly output: string
  /** Exact duration of the job's audio: its render takes renderFactor × this. */
  readonly audioSeconds: number
}

export interface CampaignSpec {
  /** Pipeline name (a slug) and file stem. */
  readonly name: string
  /** Distinct images to generate. */
  readonly images: number
  /** The length in seconds of each distinct audio to generate. */
  readonly audioSeconds: ReadonlyArray<number>
  /** Sample rate of the generated WAVs (lower = smaller files for long durations). */
  readonly audioRate?: number
  /** Job i renders image pairs[i][0] with audio pairs[i][1]. */
  readonly pairs: ReadonlyArray<readonly [number, number]>
  /** The pipeline's `run:` block. */
  readonly run: Readonly<Record<string, unknown>>
  /**
   * The pipeline's `provider.limits` (rates as text, every kind): what Clapper paces to, which
   * must be what the simulator enforces. Default: `roomyQuotas` (give the simulator `roomySim`).
   */
  readonly limits?: Readonly<Record<string, string>>
}

export interface Campaign {
  readonly root: string
  /** Absolute path of the pipeline file. */
  readonly pipelineFile: string
  /** Absolute path of jobs.json (for the baseline): [{ image, audio, output }] relative to root. */
  readonly jobsFile: string
  readonly jobs: ReadonlyArray<CampaignJob>
  readonly remove: () => void
}

const pad = (n: number, width: number) => String(n).padStart(width, "0")

/** `{ a: 1, b: { c: "5s" } }` → `{ a: 1, b: { c: 5s } }` (YAML flow style; values are plain scalars). */
const flow = (value: unknown): string =>
  value !== null && typeof value === "object"
    ? `{ ${Object.entries(value)
        .map(([k, v]) => `${k}: ${flow(v)}`)
        .join(", ")} }`
    : String(value)

export const benchTmp = (): string => process.env["BENCH_TMPDIR"] ?? tmpdir()

export const makeCampaign = (spec: CampaignSpec): Campaign => {
  const root = mkdtempSync(join(benchTmp(), `clapper-bench-${spec.name}-`))
  const write = (path: string, content: string | Uint8Array) => {
    const full = join(root, path)
    mkdirSync(dirname(full), { recursive: true })
    writeFileSync(full, content)
    return full
  }
  write("package.json", "{}\n")
  const rate = spec.audioRate ?? 8000
  const imageName = (i: number) => `i${pad(i, 5)}.png`
  const audioName = (a: number) => `a${pad(a, 5)}.wav`
  for (let i = 0; i < spec.images; i++) write(`img/${imageName(i)}`, makePng(0x102030 + i * 7919))
  spec.audioSeconds.forEach((seconds, a) => write(`wav/${audioName(a)}`, makeWav(seconds, 180 + (a % 400) * 3, rate, a)))
  const width = Math.max(5, String(spec.pairs.length).length)
  const jobs = spec.pairs.map(([image, audio], index): CampaignJob => {
    const id = `j${pad(index, width)}`
    return {
      id,
      image: `img/${imageName(image)}`,
      audio: `wav/${audioName(audio)}`,
      output: `out/${id}.mp4`,
      audioSeconds: wavSeconds(spec.audioSeconds[audio] ?? 0, rate)
    }
  })
  write("jobs.csv", `id,image,audio\n${jobs.map((j) => `${j.id},${j.image.slice(4)},${j.audio.slice(4)}`).join("\n")}\n`)
  const jobsFile = write("jobs.json", JSON.stringify(jobs.map(({ image, audio, output }) => ({ image, audio, output }))))
  const pipelineFile = write(
    `${spec.name}.yaml`,
    `version: 1
name: ${spec.name}
provider: ${flow({ limits: spec.limits ?? limitsOf(roomyQuotas) })}
run: ${flow(spec.run)}
sets:
  all:
    rows: jobs.csv
    image: img/{{row.image}}
    audio: wav/{{row.audio}}
    output: out/{{row.id}}.mp4
`
  )
  return {
    root,
    pipelineFile,
    jobsFile,
    jobs,
    remove: () => {
      if (!flagEnv("BENCH_KEEP")) rmSync(root, { recursive: true, force: true })
    }
  }
}

/** `n` distinct image+audio pairs from about √n images and √n audios (a grid, row by row). */
export const gridPairs = (n: number): { images: number; audios: number; pairs: ReadonlyArray<readonly [number, number]> } => {
  const audios = Math.ceil(Math.sqrt(n))
  const images = Math.ceil(n / audios)
  return { images, audios, pairs: Array.from({ length: n }, (_, i) => [Math.floor(i / audios), i % audios] as const) }
}

/**
 * Benchmark 1's campaign (benchmark 4 resumes the same one): `jobs` distinct image × audio pairs
 * of tiny files. Render factor 0 makes every job COMPLETE at its first status check, so the poll
 * interval is the least a pipeline accepts (1 ms; 0 is refused) and the rate limit and the quotas
 * are out of the way: only orchestration is left to measure.
 */
export const orchestrationCampaignSpec = (name: string, jobs: number, concurrency: number): CampaignSpec => {
  const grid = gridPairs(jobs)
  return {
    name,
    images: grid.images,
    audioSeconds: Array.from({ length: grid.audios }, (_, a) => 1 + (a % 10) * 0.1),
    pairs: grid.pairs,
    run: { concurrency, requestsPerSecond: 100000, poll: { interval: "1ms", maxInterval: "1ms" } }
  }
}

/** The simulator's default render factor: a render lasts 4 × its audio. */
export const realRenderFactor = 4

export interface RenderCampaignSpec {
  readonly name: string
  readonly jobs: number
  /** Seeds the render times. */
  readonly seed: number
  /** Render times, unscaled, in seconds: uniform in [min, max]. */
  readonly minRenderSeconds: number
  readonly maxRenderSeconds: number
  readonly run: Readonly<Record<string, unknown>>
  /** `provider.limits`, as in `CampaignSpec`. */
  readonly limits?: Readonly<Record<string, string>>
}

/**
 * `jobs` jobs with seeded render times: job i's audio lasts r_i / 4, so at the simulator's
 * render factor 4 × scale its render takes r_i × scale. One image, one audio per job (2 kHz WAVs,
 * at most a few tens of KB).
 */
export const makeRenderCampaign = (spec: RenderCampaignSpec): Campaign => {
  const random = seededRandom(spec.seed)
  const renderSeconds = Array.from(
    { length: spec.jobs },
    () => Math.round(10 * (spec.minRenderSeconds + (spec.maxRenderSeconds - spec.minRenderSeconds) * random())) / 10
  )
  return makeCampaign({
    name: spec.name,
    images: 1,
    audioSeconds: renderSeconds.map((r) => r / realRenderFactor),
    audioRate: 2000,
    pairs: renderSeconds.map((_, i) => [0, i] as const),
    run: spec.run,
    ...(spec.limits ? { limits: spec.limits } : {})
  })
}

/** Unscaled render time of a job of a render campaign, in ms. */
export const realRenderMs = (job: CampaignJob): number => job.audioSeconds * realRenderFactor * 1000

/** The simulator's render time for a job at `renderFactor` (it rounds to whole ms). */
export const simRenderMs = (job: CampaignJob, renderFactor: number): number => Math.round(renderFactor * job.audioSeconds * 1000)

const ms = (x: number) => `${Math.max(1, Math.round(x))}ms`

/**
 * Clapper's defaults with time compressed by `scale`: polls every 5 s to 30 s, 5 requests per
 * second, first retry after 1 s (at most 60 s) — each × scale (the rate ÷ scale).
 */
export const scaledClapperRun = (scale: number, concurrency: number, options: { readonly scaleRetries?: boolean } = {}) => ({
  concurrency,
  requestsPerSecond: Math.round((5 / scale) * 100) / 100,
  poll: { interval: ms(5000 * scale), maxInterval: ms(30_000 * scale) },
  ...(options.scaleRetries === false ? {} : { retry: { initialDelay: ms(1000 * scale), maxDelay: ms(60_000 * scale) } })
})
