/**
 * Text-to-speech for a spoken job: once per script and voice (its fingerprint), the WAV kept in
 * the state folder between stages and runs, so a resumed job speaks nothing twice.
 */
import { FileSystem, Path } from "@effect/platform"
import { Effect } from "effect"
import { digestFile } from "../media/digest.ts"
import type { PlannedJob } from "../plan/plan.ts"
import { StateIoError } from "../state/journal.ts"
import type { JobScope } from "./jobScope.ts"
import type { StepFailed } from "./stepErrors.ts"

export type SpeechStage = NonNullable<PlannedJob["stages"]["speech"]>

/** The generated voice track: where it is and its digest. */
export const speak = (
  scope: JobScope,
  speech: SpeechStage
): Effect.Effect<{ readonly path: string; readonly sha256: string }, StepFailed | StateIoError, FileSystem.FileSystem | Path.Path> =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const file = path.join(scope.ctx.cacheDir, "speech", `${speech.fingerprint.replace(/^sha256:/, "")}.wav`)
    // The cache is in the state folder: one that cannot be written stops the run.
    const cacheError = (operation: "read" | "write") => (e: { readonly message: string }) =>
      new StateIoError({ file, operation, reason: e.message, freeBytes: undefined })
    if (!(yield* fs.exists(file).pipe(Effect.orElseSucceed(() => false)))) {
      yield* fs.makeDirectory(path.dirname(file), { recursive: true }).pipe(Effect.mapError(cacheError("write")))
      const temp = `${file}.part`
      yield* scope
        .retry("speech", "speech", () =>
          scope.client.textToSpeech({ voiceId: speech.voice, text: speech.text, model: "mirage-audio-1", path: temp })
        )
        .pipe(Effect.catchAll(scope.stepFailed("speech")))
      yield* fs.rename(temp, file).pipe(Effect.mapError(cacheError("write")))
    }
    return { path: file, sha256: yield* digestFile(file).pipe(Effect.mapError(cacheError("read"))) }
  })
