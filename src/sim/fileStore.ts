import { FileSystem } from "@effect/platform"
import { Effect, HashMap, Option, Ref, type Scope } from "effect"
import { randomToken } from "./ids.ts"

/**
 * The simulator's disk: one temporary directory (removed when the simulator stops) holding
 * uploads, renders and copies, plus the table of names the file host serves. A published name
 * is what a storage URL would be: unguessable, and stable for the file it points to.
 */
export interface FileStore {
  readonly root: string
  /** A fresh directory under the root, removed when `scope` closes. */
  readonly scratchDirectory: Effect.Effect<string, never, Scope.Scope>
  /** A path under the root for a file the simulator keeps until it stops. */
  readonly keptPath: (stem: string, extension: string) => Effect.Effect<string>
  /** Moves a file the simulator keeps (an upload it will serve) under the root. */
  readonly keep: (from: string, stem: string, extension: string) => Effect.Effect<string>
  /** Serves `path` on the file host under `name` (replacing any earlier file of that name). */
  readonly publish: (name: string, path: string) => Effect.Effect<void>
  readonly lookup: (name: string) => Effect.Effect<Option.Option<string>>
}

export const makeFileStore: Effect.Effect<FileStore, never, FileSystem.FileSystem | Scope.Scope> = Effect.gen(function* () {
  const fs = yield* FileSystem.FileSystem
  const root = yield* fs.makeTempDirectoryScoped({ prefix: "clapper-sim-" }).pipe(Effect.orDie)
  const kept = `${root}/kept`
  yield* fs.makeDirectory(kept).pipe(Effect.orDie)
  const published = yield* Ref.make(HashMap.empty<string, string>())
  const keptPath = (stem: string, extension: string) => Effect.map(randomToken(8), (token) => `${kept}/${stem}-${token}.${extension}`)
  return {
    root,
    scratchDirectory: Effect.acquireRelease(
      Effect.flatMap(randomToken(12), (token) => Effect.as(fs.makeDirectory(`${root}/scratch-${token}`), `${root}/scratch-${token}`)),
      (dir) => fs.remove(dir, { recursive: true }).pipe(Effect.ignore)
    ).pipe(Effect.orDie),
    keptPath,
    keep: (from, stem, extension) =>
      Effect.flatMap(keptPath(stem, extension), (to) => Effect.as(fs.rename(from, to), to)).pipe(Effect.orDie),
    publish: (name, path) => Ref.update(published, HashMap.set(name, path)),
    lookup: (name) => Effect.map(Ref.get(published), HashMap.get(name))
  }
})
