/**
 * The record of what a run left in flight at the provider (interrupted, or detached at its
 * deadline): `.clapper/<name>/in-flight.json` beside the pipeline. Written atomically (temporary
 * file, then rename); removed when nothing is left in flight. The resumable-state work builds the
 * journal on this; until then it is what a person (or the next run) reads to find those videos.
 */
import { FileSystem, Path } from "@effect/platform"
import { Effect } from "effect"
import type { RunSummary } from "../runtime/events.ts"

export const stateDir = (pipelineDir: string, name: string, path: Path.Path) => path.join(pipelineDir, ".clapper", name)

export interface InFlightRecord {
  readonly version: 1
  readonly pipeline: string
  readonly recordedAt: string
  readonly interrupted: boolean
  /** Videos still rendering (and billing) at the provider, by job. */
  readonly inFlight: RunSummary["inFlight"]
  /** Jobs whose submit was unanswered when the run stopped: a video may exist. */
  readonly unknownOutcome: ReadonlyArray<string>
}

export const writeInFlightRecord = (dir: string, record: InFlightRecord) =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const file = path.join(dir, "in-flight.json")
    if (record.inFlight.length === 0 && record.unknownOutcome.length === 0) {
      yield* fs.remove(file).pipe(Effect.ignore)
      return
    }
    yield* fs.makeDirectory(dir, { recursive: true })
    const temp = `${file}.tmp`
    yield* fs.writeFileString(temp, `${JSON.stringify(record, null, 2)}\n`)
    yield* fs.rename(temp, file)
  })

export const readInFlightRecord = (dir: string) =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const text = yield* fs.readFileString(path.join(dir, "in-flight.json"))
    return JSON.parse(text) as InFlightRecord
  })
