/**
 * A pipeline's run history, for `clapper log` and the library: the past runs (`pipelineLog`) and
 * the events of one of them (`pipelineRunEvents`, a Stream decoded with the runtime's `RunEvent`).
 * Read from the state store in use (the file store unless the caller provides another); the
 * pipeline file is only loaded for its name, so the history of a pipeline whose inputs are
 * missing today can still be read.
 */
import type { FileSystem, Path } from "@effect/platform"
import { Chunk, Effect, Either, Stream } from "effect"
import type { PipelineInvalid } from "../pipeline/diagnostic.ts"
import { loadPipeline, type LoadedPipeline } from "../pipeline/load.ts"
import { RunEvent } from "../runtime/events.ts"
import type { StateIoError } from "../state/journal.ts"
import type { RunHistoryUnreadable, RunNotFound, RunRecord } from "../state/runHistory.ts"
import { currentStateStore, type StateRef } from "../state/StateStore.ts"
import { runOnNode } from "./onNode.ts"
import { stateRefOf } from "../pipeline/stateRef.ts"

/** The runs of one pipeline, oldest first. */
export interface PipelineLog {
  readonly pipeline: { readonly name: string; readonly file: string }
  readonly runs: ReadonlyArray<RunRecord>
  /** Problems tolerated while reading (a torn last line of a killed run). */
  readonly warnings: ReadonlyArray<string>
}

export type PipelineLogError = PipelineInvalid | RunHistoryUnreadable | StateIoError

const refOf: (pipeline: LoadedPipeline) => StateRef = stateRefOf

/** The past runs of the pipeline in `file`, oldest first; none when it was never run. */
export const pipelineLog = (file: string): Effect.Effect<PipelineLog, PipelineLogError, FileSystem.FileSystem | Path.Path> =>
  Effect.gen(function* () {
    const pipeline = yield* loadPipeline(file)
    const store = yield* currentStateStore
    const { runs, warnings } = yield* store.runs(refOf(pipeline))
    return { pipeline: { name: pipeline.spec.name, file }, runs, warnings }
  })

/** The events of run `n` of the pipeline in `file`, in order (`job.progress` only where the status changed). */
export const pipelineRunEvents = (
  file: string,
  n: number
): Stream.Stream<RunEvent, PipelineLogError | RunNotFound, FileSystem.FileSystem | Path.Path> =>
  Stream.unwrap(
    Effect.gen(function* () {
      const pipeline = yield* loadPipeline(file)
      const store = yield* currentStateStore
      return store.runEvents(refOf(pipeline), n, RunEvent)
    })
  )

/** `pipelineLog` as a Promise; rejects with the same typed error. */
export const pipelineLogPromise = (file: string): Promise<PipelineLog> => runOnNode(pipelineLog(file))

/** `pipelineRunEvents` as a Promise of every event (for a very large run, prefer the Stream). */
export const pipelineRunEventsPromise = (file: string, n: number): Promise<ReadonlyArray<RunEvent>> =>
  runOnNode(Effect.map(Stream.runCollect(pipelineRunEvents(file, n)), Chunk.toReadonlyArray))
