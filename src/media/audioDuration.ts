import { CouldNotDetermineFileTypeError, parseBuffer, parseFile, UnsupportedFileTypeError } from "music-metadata"
import { Data, Effect } from "effect"

/** The audio's length could not be read: the file is damaged or not really audio. */
export class AudioDurationError extends Data.TaggedError("AudioDurationError")<{
  readonly reason: string
}> {
  override get message() {
    return `cannot read the audio's duration: ${this.reason}`
  }
}

const durationOf = (promise: Promise<{ format: { duration?: number | undefined } }>) =>
  Effect.tryPromise({
    try: () => promise,
    catch: (e) => new AudioDurationError({ reason: e instanceof Error ? e.message : String(e) })
  }).pipe(
    Effect.flatMap(({ format }) =>
      format.duration !== undefined && Number.isFinite(format.duration) && format.duration > 0
        ? Effect.succeed(format.duration)
        : Effect.fail(new AudioDurationError({ reason: "no audio frames found" }))
    )
  )

/** Duration in seconds of a WAV or MP3 file on disk (MP3s are scanned whole when they lack a header). */
export const audioDurationOfFile = (path: string): Effect.Effect<number, AudioDurationError> =>
  durationOf(parseFile(path, { duration: true, skipCovers: true }))

/** Duration in seconds of WAV or MP3 bytes already in memory. */
export const audioDurationOfBytes = (bytes: Uint8Array, mimeType?: string): Effect.Effect<number, AudioDurationError> =>
  durationOf(parseBuffer(bytes, mimeType ? { mimeType } : undefined, { duration: true, skipCovers: true }))

/**
 * Duration in seconds of a file's bytes already read whole: what `audioDurationOfFile` says of
 * that file (the parser is chosen by the file's name, then its bytes, and its errors name the
 * file, as `parseFile` does), without reading it again.
 */
export const audioDurationOfFileBytes = (bytes: Uint8Array, path: string): Effect.Effect<number, AudioDurationError> =>
  durationOf(
    parseBuffer(bytes, { path, size: bytes.length }, { duration: true, skipCovers: true }).catch((error: unknown) => {
      if (error instanceof CouldNotDetermineFileTypeError || error instanceof UnsupportedFileTypeError) error.message += `: ${path}`
      throw error
    })
  )
