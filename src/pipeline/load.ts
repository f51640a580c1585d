/** Pipeline file on disk → decoded pipeline with its source positions. Sends and writes nothing. */
import { FileSystem, Path } from "@effect/platform"
import { Effect, Either } from "effect"
import { PipelineInvalid } from "./diagnostic.ts"
import { decodePipeline } from "./decode.ts"
import { findProjectRoot } from "./projectRoot.ts"
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
  readonly spec: Pipeline
  readonly source: YamlSource
}

export const loadPipeline = (
  file: string
): Effect.Effect<LoadedPipeline, PipelineInvalid, FileSystem.FileSystem | Path.Path> =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const absolute = path.resolve(file)
    const invalid = (message: string) => new PipelineInvalid({ diagnostics: [{ file, line: 1, column: 1, message }] })
    // Reading a folder would fail with a system error; say what it is instead.
    const info = yield* fs.stat(absolute).pipe(Effect.option)
    if (info._tag === "Some" && info.value.type === "Directory") {
      return yield* Effect.fail(invalid("is a folder, not a file: name the pipeline file itself (like pipelines/spring-launch.yaml)"))
    }
    const bytes = yield* fs.readFile(absolute).pipe(
      Effect.mapError((e) =>
        invalid(e._tag === "SystemError" && e.reason === "NotFound" ? "no such pipeline file" : `cannot read the pipeline file: ${e.message}`)
      )
    )
    const text = yield* decodeUtf8(file, bytes).pipe(Either.mapLeft((d) => new PipelineInvalid({ diagnostics: [d] })))
    const source = yield* parseYamlSource(file, text).pipe(Either.mapLeft((diagnostics) => new PipelineInvalid({ diagnostics })))
    const spec = yield* decodePipeline(source).pipe(Either.mapLeft((diagnostics) => new PipelineInvalid({ diagnostics })))
    const dir = path.dirname(absolute)
    const projectRoot = yield* findProjectRoot(dir)
    return { file, path: absolute, dir, projectRoot, spec, source }
  })
