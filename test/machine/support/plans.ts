/**
 * Plans for the step-machine tests: a tiny real pipeline in a temp project, loaded and planned as
 * `clapper run` does (so every `PlannedJob` field is the real one), with the example assets.
 */
import type { FileSystem, Path } from "@effect/platform"
import { Effect } from "effect"
import { join } from "node:path"
import { loadPipeline } from "../../../src/pipeline/load.ts"
import { type Plan, planPipeline } from "../../../src/plan/plan.ts"
import { tempProject } from "../../support/tempProject.ts"

/** Voice tracks of the example assets: each pair with its own is its own render. */
const voices = ["assets/voice/hello.wav", "assets/voice/welcome.mp3", "assets/locales/en.wav", "assets/locales/de.wav"] as const

export interface PlannedProject {
  readonly root: string
  readonly plan: Plan
  /** Where the run keeps speech and base videos (inside the temp project). */
  readonly cacheDir: string
}

const planIn = (yaml: string): Effect.Effect<PlannedProject, unknown, FileSystem.FileSystem | Path.Path> =>
  Effect.gen(function* () {
    const project = tempProject()
    const file = project.write("machine.yaml", yaml)
    const plan = yield* planPipeline(yield* loadPipeline(file))
    return { root: project.root, plan, cacheDir: join(project.root, ".cache") }
  })

const pairs = (n: number) =>
  voices
    .slice(0, n)
    .map((audio) => `      - { image: assets/presenters/alice.png, audio: ${audio} }`)
    .join("\n")

/** `n` plain jobs (image + audio → video → download), each its own render (at most 4). */
export const plainPlan = (n = 1) =>
  planIn(`version: 1
name: machine
output: out/{{ audio.stem }}.mp4
sets:
  talk:
    pairs:
${pairs(n)}
`)

/** `n` base videos (at most 4), each delivered as two text-overlay variants (one overlay request of 2 texts each). */
export const overlayPlan = (n = 1) =>
  planIn(`version: 1
name: machine-overlays
sets:
  ads:
    pairs:
${pairs(n)}
    overlays:
      - { text: "Made for you", color: "#FFFFFF", size: 48 }
      - { text: "Book a demo", color: "#FFCC00", size: 48 }
    output: out/{{ audio.stem }}-v{{ overlay.index }}.mp4
`)
