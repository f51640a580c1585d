/**
 * Each job's tile in the gallery: a link to its output (relative to the report's folder) and what
 * to show, from its state and the file on disk: a poster frame (by the output's digest, the lock
 * file's when it has one), a placeholder saying why there is none, a missing or changed file.
 * Posters are taken a couple at a time, and at most `maxPosters` of them are inlined.
 */
import { FileSystem, Path } from "@effect/platform"
import { Effect, Option } from "effect"
import type { JobResult } from "../app/jobResult.ts"
import { digestFile } from "../media/digest.ts"
import type { LockFile } from "../state/lockFile.ts"
import { fileHref } from "./html.ts"
import type { PosterFrames } from "./posterFrames.ts"
import type { GalleryMedia, Poster } from "./reportData.ts"

export interface GalleryOptions {
  /** Where the outputs' ids are relative to. */
  readonly projectRoot: string
  /** The report's folder: links are relative to it. */
  readonly reportDir: string
  /** The recorded digests of the outputs. */
  readonly lock: LockFile
  readonly frames: PosterFrames
  readonly maxPosters: number
}

export interface Gallery {
  /** By job id. */
  readonly media: ReadonlyMap<string, GalleryMedia>
  /** Posters taken now, read from the cache, and tiles with a placeholder instead. */
  readonly posters: { readonly made: number; readonly cached: number; readonly placeholders: number }
  /** Why a poster is missing, in plan order; one line for no ffmpeg at all. */
  readonly warnings: ReadonlyArray<string>
}

/** Posters taken at once: ffmpeg is quick per frame, and the machine has other work. */
const posterConcurrency = 2

export const galleryMedia = (
  results: ReadonlyArray<JobResult>,
  options: GalleryOptions
): Effect.Effect<Gallery, never, FileSystem.FileSystem | Path.Path> =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const { frames } = options
    const posters = { made: 0, cached: 0, placeholders: 0 }
    const unreadable = new Map<string, string>()
    let postersLeft = options.maxPosters
    let omitted = false

    const tileOf = (result: JobResult): Effect.Effect<GalleryMedia, never, FileSystem.FileSystem> =>
      Effect.gen(function* () {
        const video = path.join(options.projectRoot, result.output)
        const href = fileHref(path.relative(options.reportDir, video).split(path.sep).join("/"))
        const withPoster = (poster: Poster): GalleryMedia => ({ href, poster })
        if (result.state !== "done" && result.state !== "missing") return withPoster({ _tag: "NoVideo" })
        const exists = yield* fs.exists(video).pipe(Effect.orElseSucceed(() => false))
        if (!exists) return withPoster({ _tag: "MissingFile" })
        if (result.state === "missing") return withPoster({ _tag: "ChangedFile" })
        if (postersLeft <= 0) {
          omitted = true
          return withPoster({ _tag: "Omitted" })
        }
        postersLeft--
        const recorded = options.lock.outputs[result.job]?.output.sha256
        const sha256 = recorded ?? (yield* digestFile(video).pipe(Effect.option, Effect.map(Option.getOrUndefined)))
        const frame =
          sha256 === undefined ? ({ _tag: "NoFrame", reason: "the file could not be read" } as const) : yield* frames.poster(video, sha256)
        if (frame._tag === "NoFrame") {
          posters.placeholders++
          // Without ffmpeg at all, one warning says so (below), not one per video.
          if (frames.engine._tag === "Ffmpeg") unreadable.set(result.job, `no poster for ${result.output}: ${frame.reason}`)
          return withPoster({ _tag: "NoFrame", reason: frame.reason })
        }
        if (frame.cached) posters.cached++
        else posters.made++
        return withPoster({ _tag: "Frame", jpegBase64: Buffer.from(frame.jpeg).toString("base64") })
      })

    const media = new Map<string, GalleryMedia>()
    yield* Effect.forEach(results, (r) => Effect.map(tileOf(r), (m) => void media.set(r.job, m)), {
      concurrency: posterConcurrency,
      discard: true
    })
    const warnings: Array<string> = []
    if (frames.engine._tag === "None" && results.some((r) => r.state === "done")) {
      warnings.push(`no poster frames: ${frames.engine.reason}; the gallery shows placeholders`)
    }
    for (const r of results) {
      const warning = unreadable.get(r.job)
      if (warning !== undefined) warnings.push(warning)
    }
    if (omitted) {
      warnings.push(
        `the report shows at most ${options.maxPosters.toLocaleString("en-US")} posters: the other videos have a link and no picture`
      )
    }
    return { media, posters, warnings }
  })
