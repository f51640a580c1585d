/**
 * The lock file, written on demand from the state the store holds (`clapper lock`): on a machine
 * that did not run the campaign, from its shared state. The bytes are what a run writes for the
 * same outputs (one writer, state/lockText.ts); entries of outputs no longer in the pipeline are
 * left out, as a run leaves them out.
 */
import type { FileSystem, Path } from "@effect/platform"
import { Effect } from "effect"
import type { PipelineInvalid } from "../pipeline/diagnostic.ts"
import { loadPipeline, type LoadedPipeline } from "../pipeline/load.ts"
import { stateRefOf } from "../pipeline/stateRef.ts"
import { checkPipeline } from "../plan/plan.ts"
import type { StateCorrupt, StateIoError } from "../state/journal.ts"
import { lockFilePath, writeLockFile, type LockFile } from "../state/lockFile.ts"
import { makeLockLines } from "../state/lockLines.ts"
import { currentStateStore } from "../state/StateStore.ts"

export interface ExportedLock {
  /** Where it was written: beside the pipeline. */
  readonly path: string
  readonly outputs: number
}

/** Writes the lock file beside the pipeline from `lock` (as a store holds it), with the entries of the jobs `ids` (every job of the pipeline). */
export const writeLockOf = (pipeline: LoadedPipeline, ids: ReadonlySet<string>, lock: LockFile) =>
  Effect.gen(function* () {
    const lines = makeLockLines()
    let outputs = 0
    for (const [id, entry] of Object.entries(lock.outputs)) {
      if (!ids.has(id)) continue
      lines.set(id, entry)
      outputs++
    }
    const path = lockFilePath(pipeline.path)
    yield* writeLockFile(path, lines.bytes(pipeline.spec.name))
    return { path, outputs } satisfies ExportedLock
  })

export const exportLockFile = (
  file: string
): Effect.Effect<ExportedLock, PipelineInvalid | StateCorrupt | StateIoError, FileSystem.FileSystem | Path.Path> =>
  Effect.gen(function* () {
    const pipeline = yield* loadPipeline(file)
    const ids = new Set((yield* checkPipeline(pipeline)).map((job) => job.id))
    const store = yield* currentStateStore
    const stored = yield* store.read(stateRefOf(pipeline))
    return yield* writeLockOf(pipeline, ids, stored.lock)
  })
