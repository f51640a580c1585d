/**
 * A rendered video → its output file, never a partial file at the final path: the bytes go to a
 * temporary file beside the output (same folder, so the final rename is atomic), a broken
 * transfer resumes with a Range request, the result is verified (non-empty, the announced length,
 * an MP4 `ftyp` box), then renamed into place. An interrupted download leaves no temporary file.
 */
import { FileSystem, Path } from "@effect/platform"
import type { PlatformError } from "@effect/platform/Error"
import { Effect, Option } from "effect"
import { MirageClient, type DownloadOptions, type DownloadResult } from "../mirage/MirageClient.ts"
import { LocalFileError, type DownloadError } from "../mirage/MirageError.ts"
import { CorruptDownload } from "./failureKind.ts"

/** A file system failure of the download's own files, as the client reports its own. */
const localFileError = (operation: string, path: string, e: PlatformError) =>
  new LocalFileError({ operation, path, reason: e._tag === "SystemError" ? `${e.reason}: ${e.message}` : e.message })

/** True when the bytes start like an MP4/QuickTime file: a box whose type is `ftyp`. */
export const hasFtypBox = (head: Uint8Array): boolean =>
  head.length >= 8 && head[4] === 0x66 && head[5] === 0x74 && head[6] === 0x79 && head[7] === 0x70

const readHead = (fs: FileSystem.FileSystem, path: string) =>
  Effect.scoped(Effect.flatMap(fs.open(path), (file) => file.readAlloc(FileSystem.Size(12)))).pipe(
    Effect.map(Option.getOrElse(() => new Uint8Array())),
    Effect.orElseSucceed(() => new Uint8Array())
  )

/**
 * Downloads `videoId` to `output`. `attempt` wraps each try (the caller adds the shared gate and
 * retries); every try resumes from what the temporary file already holds.
 */
export const downloadToOutput = <E>(options: {
  readonly videoId: string
  readonly output: string
  /** Where the bytes come from; default the video's content endpoint (an overlay's result has a URL of its own). */
  readonly source?: (into: DownloadOptions) => Effect.Effect<DownloadResult, DownloadError>
  readonly retry: <A>(
    attempt: () => Effect.Effect<A, DownloadError | CorruptDownload>
  ) => Effect.Effect<A, DownloadError | CorruptDownload | E>
}): Effect.Effect<{ readonly bytes: number }, DownloadError | CorruptDownload | E, MirageClient | FileSystem.FileSystem | Path.Path> =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const client = yield* MirageClient
    const dir = path.dirname(options.output)
    // A folder that cannot be made (a file in the way, a read-only parent) fails this job, not the run.
    yield* fs.makeDirectory(dir, { recursive: true }).pipe(Effect.mapError((e) => localFileError("create the output folder", dir, e)))
    // One temporary name per output (one runner per pipeline makes that safe): a run killed mid-
    // download leaves at most one, and the next run starts it afresh rather than trusting bytes
    // that may belong to another render.
    const temp = path.join(dir, `.${path.basename(options.output)}.part`)
    // `force`: a missing file is the usual case, not an error (no error object per job).
    yield* fs.remove(temp, { force: true }).pipe(Effect.ignore)
    // Nothing is on disk before the first try; a retry resumes from what the file holds.
    let tried = false
    return yield* Effect.acquireUseRelease(
      Effect.succeed(temp),
      (temp) =>
        Effect.gen(function* () {
          const result = yield* options.retry(() =>
            Effect.gen(function* () {
              const onDisk = !tried
                ? 0
                : yield* fs.stat(temp).pipe(
                    Effect.map((info) => Number(info.size)),
                    Effect.orElseSucceed(() => 0)
                  )
              tried = true
              const into = { path: temp, resumeFrom: onDisk }
              return yield* options.source ? options.source(into) : client.downloadContent(options.videoId, into)
            })
          )
          const size = result.fileSize
          const corrupt = (reason: string) => Effect.fail(new CorruptDownload({ videoId: options.videoId, reason }))
          if (size === 0) return yield* corrupt("empty")
          if (result.totalBytes !== undefined && size !== result.totalBytes) {
            return yield* corrupt(`${size} bytes where ${result.totalBytes} were announced`)
          }
          if (!hasFtypBox(yield* readHead(fs, temp))) return yield* corrupt("no ftyp box at the start")
          yield* fs
            .rename(temp, options.output)
            .pipe(Effect.mapError((e) => localFileError("put the download in place", options.output, e)))
          return { bytes: size }
        }),
      // Whatever happened, no temporary file stays behind (after a rename there is none to remove).
      (temp) => fs.remove(temp, { force: true }).pipe(Effect.ignore)
    )
  })
