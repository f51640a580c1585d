/**
 * Pipeline file on disk → decoded pipeline with its source positions. Sends and writes nothing.
 *
 * A file that does not decode fails with every problem of the file, not only the decoding's: the
 * parts that do decode are still expanded and their inputs read (see `decodePipelineAll`), so a
 * user fixes all of them after one run.
 */
import { FileSystem, Path } from "@effect/platform"
import { Effect, Either } from "effect"
import { PipelineInvalid, type Diagnostic } from "./diagnostic.ts"
import { decodePipelineAll } from "./decode.ts"
import { expandPipelineAll } from "./expand.ts"
import { inspectInputFiles } from "./inspectInputs.ts"
import { didYouMeanFile } from "./missingFile.ts"
import { locateProjectRoot, type ProjectRootMarker } from "./projectRoot.ts"
import type { Pipeline } from "./schema.ts"
import { decodeUtf8 } from "./utf8.ts"
import { parseYamlSource, type YamlSource } from "./yamlSource.ts"

export interface LoadedPipeline {
  /** The file as the user named it: diagnostics use this. */
  readonly file: string
  /** Absolute path of the pipeline file. */
  readonly path: string
  /** Folder that relative paths in the file are resolved against. */
  readonly dir: string
  /** Outputs must stay inside this folder. */
  readonly projectRoot: string
  /** What marks the project root (`.git` or `package.json`); absent when none does and it is the pipeline's own folder. */
  readonly projectRootMarker?: ProjectRootMarker
  readonly spec: Pipeline
  readonly source: YamlSource
}

export const loadPipeline = (file: string): Effect.Effect<LoadedPipeline, PipelineInvalid, FileSystem.FileSystem | Path.Path> =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const absolute = path.resolve(file)
    const invalid = (message: string) => new PipelineInvalid({ diagnostics: [{ file, line: 1, column: 1, message }] })
    // Reading a folder would fail with a system error; say what it is instead.
    const info = yield* fs.stat(absolute).pipe(Effect.either)
    if (info._tag === "Right" && info.right.type === "Directory") {
      return yield* Effect.fail(invalid("is a folder, not a file: name the pipeline file itself (like pipelines/spring-launch.yaml)"))
    }
    if (info._tag === "Left" && info.left._tag === "SystemError" && info.left.reason === "NotFound") {
      return yield* Effect.fail(invalid(`no such pipeline file${yield* didYouMeanFile(absolute, file)}`))
    }
    const bytes = yield* fs
      .readFile(absolute)
      .pipe(
        Effect.mapError((e) =>
          invalid(
            e._tag === "SystemError" && e.reason === "NotFound" ? "no such pipeline file" : `cannot read the pipeline file: ${e.message}`
          )
        )
      )
    const text = yield* decodeUtf8(file, bytes).pipe(Either.mapLeft((d) => new PipelineInvalid({ diagnostics: [d] })))
    const source = yield* parseYamlSource(file, text).pipe(Either.mapLeft((diagnostics) => new PipelineInvalid({ diagnostics })))
    const decoded = decodePipelineAll(source)
    const dir = path.dirname(absolute)
    const root = yield* locateProjectRoot(dir)
    const loaded = (spec: Pipeline): LoadedPipeline => ({
      file,
      path: absolute,
      dir,
      projectRoot: root.root,
      ...(root.marker !== undefined ? { projectRootMarker: root.marker } : {}),
      spec,
      source
    })
    if (decoded.diagnostics.length === 0 && decoded.checkable) return loaded(decoded.checkable)
    const later = decoded.checkable ? yield* laterProblems(loaded(decoded.checkable)) : []
    return yield* Effect.fail(new PipelineInvalid({ diagnostics: [...decoded.diagnostics, ...later] }))
  })

/** What expanding the decodable part and reading its inputs finds: reported with the decoding's problems. */
const laterProblems = (pipeline: LoadedPipeline): Effect.Effect<ReadonlyArray<Diagnostic>, never, FileSystem.FileSystem | Path.Path> =>
  Effect.gen(function* () {
    const expanded = yield* expandPipelineAll(pipeline)
    const inspected = yield* inspectInputFiles(expanded.inputs)
    return [...expanded.diagnostics, ...inspected.diagnostics]
  })
