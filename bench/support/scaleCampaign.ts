/**
 * A campaign at scale on disk: a throwaway project (marked by package.json) whose pipeline has one
 * `rows` set over a data file of `rows` rows, drawn over a few hundred distinct tiny images and
 * audios, with a templated output name (`{{ row.name | slug }}`) so templating is measured too.
 * Deterministic: the same spec gives the same bytes.
 */
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, writeFileSync, writeSync } from "node:fs"
import { join } from "node:path"
import { benchTmp } from "./campaign.ts"
import { flagEnv } from "./env.ts"
import { makePng, makeWav } from "./media.ts"
import { limitsOf, roomyQuotas } from "./quotas.ts"

export interface ScaleCampaignSpec {
  readonly name: string
  /** Rows of the data file: one job each. */
  readonly rows: number
  readonly images: number
  readonly audios: number
  /** The pipeline's `run:` block, as YAML flow text (default none). */
  readonly run?: string
}

export interface ScaleCampaign {
  readonly root: string
  /** Absolute path of the pipeline file. */
  readonly pipelineFile: string
  /** Absolute path of the data file. */
  readonly dataFile: string
  readonly rows: number
  /** Distinct image + audio pairs among the rows: the renders the plan counts. */
  readonly renders: number
  readonly remove: () => void
}

const pad = (n: number, width: number) => String(n).padStart(width, "0")

/**
 * Row i uses image i mod images and audio ⌊i / images⌋ mod audios: every image and audio is used,
 * and the distinct pairs are min(rows, images × audios).
 */
export const makeScaleCampaign = (spec: ScaleCampaignSpec): ScaleCampaign => {
  const root = mkdtempSync(join(benchTmp(), `clapper-bench-${spec.name}-`))
  const write = (path: string, content: string | Uint8Array) => {
    const full = join(root, path)
    writeFileSync(full, content)
    return full
  }
  write("package.json", "{}\n")
  mkdirSync(join(root, "img"))
  mkdirSync(join(root, "wav"))
  for (let i = 0; i < spec.images; i++) write(`img/p${pad(i, 4)}.png`, makePng(0x203040 + i * 7919))
  for (let a = 0; a < spec.audios; a++) write(`wav/v${pad(a, 4)}.wav`, makeWav(1 + (a % 10) * 0.1, 180 + (a % 400) * 3, 8000, a))

  // Written in chunks: a million rows are about 50 MB of text.
  const dataFile = join(root, "customers.csv")
  const fd = openSync(dataFile, "w")
  try {
    writeSync(fd, "id,name,image,audio\n")
    const width = String(spec.rows).length
    const chunk: Array<string> = []
    for (let i = 0; i < spec.rows; i++) {
      const image = i % spec.images
      const audio = Math.floor(i / spec.images) % spec.audios
      chunk.push(`c${pad(i, width)},Customer ${i} & Co.,p${pad(image, 4)}.png,v${pad(audio, 4)}.wav\n`)
      if (chunk.length === 10_000) writeSync(fd, chunk.splice(0).join(""))
    }
    writeSync(fd, chunk.join(""))
  } finally {
    closeSync(fd)
  }

  const limits = Object.entries(limitsOf(roomyQuotas))
    .map(([kind, rate]) => `${kind}: ${rate}`)
    .join(", ")
  const pipelineFile = write(
    `${spec.name}.yaml`,
    `version: 1
name: ${spec.name}
provider: { limits: { ${limits} } }
${spec.run === undefined ? "" : `run: ${spec.run}\n`}sets:
  customers:
    rows: customers.csv
    image: img/{{ row.image }}
    audio: wav/{{ row.audio }}
    output: out/{{ row.id }}-{{ row.name | slug }}.mp4
`
  )
  return {
    root,
    pipelineFile,
    dataFile,
    rows: spec.rows,
    renders: Math.min(spec.rows, spec.images * spec.audios),
    remove: () => {
      if (!flagEnv("BENCH_KEEP")) rmSync(root, { recursive: true, force: true })
    }
  }
}
