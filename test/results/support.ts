/** A small campaign with a data file full of awkward values, rendered on the in-process simulator. */
import { NodeContext } from "@effect/platform-node"
import { Effect } from "effect"
import { parse } from "csv-parse/sync"
import { runPipeline } from "../../src/app/runPipeline.ts"
import type { RunSummary } from "../../src/runtime/events.ts"
import * as Simulator from "../../src/sim/Simulator.ts"
import { fastSettings } from "../support/fastSettings.ts"
import type { TempProject } from "../support/tempProject.ts"
import { roomySim } from "../support/testQuotas.ts"
import { makeWav } from "../support/wav.ts"

/**
 * The data file: commas, quotes, a line break, values a spreadsheet would run as formulas, a
 * negative number, a column named like one of the table's own (`state`) and one named like a
 * number (`2024`: an object would put it first).
 */
export const peopleCsv = [
  "id,name,company,note,state,score,2024",
  'p1,Ada,"Engines, Ltd","said ""hi""',
  'then left","=HYPERLINK(""http://evil.example"")",+1,y1',
  "p2,Grace,@corp,-rm -rf,-5,3,y2",
  'p3,Alan,Plain,ok,"",+44 20 7946 0958,y3',
  ""
].join("\r\n")

/** The data rows as the data file holds them, in its column order (csv-parse trims, as Clapper reads it). */
export const peopleRows: ReadonlyArray<ReadonlyArray<readonly [string, string]>> = [
  [
    ["id", "p1"],
    ["name", "Ada"],
    ["company", "Engines, Ltd"],
    ["note", 'said "hi"\r\nthen left'],
    ["state", '=HYPERLINK("http://evil.example")'],
    ["score", "+1"],
    ["2024", "y1"]
  ],
  [
    ["id", "p2"],
    ["name", "Grace"],
    ["company", "@corp"],
    ["note", "-rm -rf"],
    ["state", "-5"],
    ["score", "3"],
    ["2024", "y2"]
  ],
  [
    ["id", "p3"],
    ["name", "Alan"],
    ["company", "Plain"],
    ["note", "ok"],
    ["state", ""],
    ["score", "+44 20 7946 0958"],
    ["2024", "y3"]
  ]
]

/** Writes the campaign (3 data rows + 1 pair) and answers the pipeline file. `extra` goes at the top level. */
export const writeCampaign = (project: TempProject, extra = ""): string => {
  for (const [i, id] of ["p1", "p2", "p3", "hero"].entries()) project.write(`voice/${id}.wav`, makeWav(0.2 + i * 0.05, 220 + i * 40))
  project.write("data/people.csv", peopleCsv)
  return project.write(
    "campaign.yaml",
    `version: 1
name: campaign
${extra}sets:
  people:
    rows: data/people.csv
    image: assets/presenters/alice.png
    audio: voice/{{row.id}}.wav
    output: renders/people/{{row.id}}.mp4
  hero:
    pairs:
      - { image: assets/presenters/bob.jpg, audio: voice/hero.wav, output: renders/hero.mp4 }
`
  )
}

/** Runs the pipeline on a fresh simulator (renders at once, no fault unless asked) through the library. */
export const runOnSim = (
  file: string,
  sim: Partial<Simulator.SimulatorOptions> = {}
): Promise<{ readonly summary: RunSummary; readonly baseUrl: string }> =>
  Effect.runPromise(
    Effect.scoped(
      Effect.gen(function* () {
        const handle = yield* Simulator.make({ ...roomySim, ffmpeg: false, renderFactor: 0, ...sim })
        const summary = yield* runPipeline(file, {
          backend: { _tag: "Api", baseUrl: handle.baseUrl, apiKey: "test-key" },
          baseSettings: fastSettings
        })
        return { summary, baseUrl: handle.baseUrl }
      })
    ).pipe(Effect.provide(NodeContext.layer))
  )

/** A CSV as a spreadsheet or a script reads it: the header, then one record per row. */
export const readCsv = (text: string): { readonly header: ReadonlyArray<string>; readonly rows: ReadonlyArray<Record<string, string>> } => {
  const records = parse(text, { relax_column_count: false }) as Array<Array<string>>
  const [header = [], ...rest] = records
  return { header, rows: rest.map((cells) => Object.fromEntries(header.map((name, i) => [name, cells[i] ?? ""]))) }
}
