import { Command, FileSystem } from "@effect/platform"
import type { CommandExecutor } from "@effect/platform"
import { Clock, Deferred, Effect, HashMap, Option, Ref, Scope, Stream } from "effect"
import { availableParallelism } from "node:os"
import { randomToken } from "./ids.ts"
import { placeholderMp4Bytes } from "./placeholderMp4.ts"

/**
 * Produces the MP4 of a generation job: the still image with the audio, the audio's length, 9:16.
 * Uses the ffmpeg binary shipped by @ffmpeg-installer/ffmpeg when it runs on this machine
 * (checked once at start), otherwise serves a small placeholder MP4. Renders run in the
 * background, a few at a time, and are shared by every job with the same image+audio digests.
 */
export interface RenderedVideo {
  readonly path: string
  readonly readyAtMs: number
}

export interface RenderInput {
  /** The image and audio digests; jobs with the same key share one render. */
  readonly key: string
  readonly imagePath: string
  readonly audioPath: string
  readonly audioSeconds: number
}

export interface VideoRenderer {
  readonly engine: "ffmpeg" | "placeholder"
  readonly placeholderPath: string
  /**
   * Starts the render of `input` (or joins the one already started for its key) and answers the
   * render's completion. A new render moves the input files away from the caller, so the caller
   * may delete its upload directory at once. Never fails: a failed render yields the placeholder.
   */
  readonly render: (input: RenderInput) => Effect.Effect<Deferred.Deferred<RenderedVideo>>
}

/** Renders by input key, started or done. */
type RenderCache = HashMap.HashMap<string, Deferred.Deferred<RenderedVideo>>

/** Output frame: 9:16 with even sides, as H.264 in yuv420p needs. */
const width = 720
const height = 1280

const ffmpegArgs = (input: RenderInput, output: string): ReadonlyArray<string> => [
  "-hide_banner",
  "-nostdin",
  "-loglevel",
  "error",
  "-y",
  // A still image needs few frames per second; 10 keeps long renders quick.
  "-loop",
  "1",
  "-framerate",
  "10",
  "-i",
  input.imagePath,
  "-i",
  input.audioPath,
  "-t",
  input.audioSeconds.toFixed(3),
  "-vf",
  `scale=${width}:${height}:force_original_aspect_ratio=decrease,pad=${width}:${height}:(ow-iw)/2:(oh-ih)/2,setsar=1`,
  "-c:v",
  "libx264",
  "-preset",
  "ultrafast",
  "-tune",
  "stillimage",
  "-pix_fmt",
  "yuv420p",
  "-c:a",
  "aac",
  "-b:a",
  "96k",
  "-movflags",
  "+faststart",
  // The same inputs give the same bytes: no encoder version strings or copied metadata.
  "-map_metadata",
  "-1",
  "-fflags",
  "+bitexact",
  "-flags:v",
  "+bitexact",
  "-flags:a",
  "+bitexact",
  output
]

/** Runs ffmpeg to completion (draining its output so it can never block on a full pipe). */
const runFfmpeg = (binary: string, args: ReadonlyArray<string>) =>
  Effect.scoped(
    Effect.gen(function* () {
      const process = yield* Command.start(Command.make(binary, ...args))
      const [code] = yield* Effect.all([process.exitCode, Stream.runDrain(process.stderr), Stream.runDrain(process.stdout)], {
        concurrency: "unbounded"
      })
      return code
    })
  )

/** The ffmpeg binary, when the installer package loads on this platform and the binary runs. */
const findUsableFfmpeg: Effect.Effect<Option.Option<string>, never, CommandExecutor.CommandExecutor> = Effect.tryPromise(
  () => import("@ffmpeg-installer/ffmpeg")
).pipe(
  Effect.flatMap(({ default: installer }) =>
    Effect.map(runFfmpeg(installer.path, ["-hide_banner", "-version"]), (code) =>
      code === 0 ? Option.some(installer.path) : Option.none<string>()
    )
  ),
  Effect.timeout("10 seconds"),
  Effect.orElseSucceed(() => Option.none<string>())
)

export const makeVideoRenderer = (options: {
  readonly root: string
  readonly useFfmpeg: boolean
}): Effect.Effect<VideoRenderer, never, FileSystem.FileSystem | CommandExecutor.CommandExecutor | Scope.Scope> =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const scope = yield* Effect.scope
    const context = yield* Effect.context<FileSystem.FileSystem | CommandExecutor.CommandExecutor>()
    const rendersDir = `${options.root}/renders`
    yield* fs.makeDirectory(rendersDir, { recursive: true }).pipe(Effect.orDie)
    const placeholderPath = `${options.root}/placeholder.mp4`
    yield* fs.writeFile(placeholderPath, placeholderMp4Bytes).pipe(Effect.orDie)
    const ffmpeg = options.useFfmpeg ? yield* findUsableFfmpeg : Option.none<string>()
    const renders = yield* Ref.make<RenderCache>(HashMap.empty())
    const slots = yield* Effect.makeSemaphore(Math.max(1, availableParallelism()))

    const produce = (
      input: RenderInput,
      workDir: string,
      binary: string
    ): Effect.Effect<string, never, CommandExecutor.CommandExecutor> => {
      const output = `${rendersDir}/${input.key.replace(/[^A-Za-z0-9]/g, "-")}.mp4`
      return slots
        .withPermits(1)(runFfmpeg(binary, ffmpegArgs(input, output)))
        .pipe(
          Effect.map((code) => (code === 0 ? output : placeholderPath)),
          Effect.orElseSucceed(() => placeholderPath),
          Effect.ensuring(fs.remove(workDir, { recursive: true }).pipe(Effect.ignore))
        )
    }

    const finish = (deferred: Deferred.Deferred<RenderedVideo>, path: string) =>
      Effect.flatMap(Clock.currentTimeMillis, (readyAtMs) => Deferred.succeed(deferred, { path, readyAtMs }))

    /** Takes the inputs out of the caller's upload directory, then renders them in the background. */
    const moveAndStart = (input: RenderInput, deferred: Deferred.Deferred<RenderedVideo>, binary: string) =>
      Effect.gen(function* () {
        const workDir = `${options.root}/render-${yield* randomToken(12)}`
        const moved = { ...input, imagePath: `${workDir}/image`, audioPath: `${workDir}/audio` }
        yield* fs.makeDirectory(workDir).pipe(
          Effect.zipRight(fs.rename(input.imagePath, moved.imagePath)),
          Effect.zipRight(fs.rename(input.audioPath, moved.audioPath)),
          Effect.matchCauseEffect({
            // Inputs that cannot be moved are not rendered, but the entry still completes.
            onFailure: () =>
              fs.remove(workDir, { recursive: true }).pipe(Effect.ignore, Effect.zipRight(finish(deferred, placeholderPath))),
            onSuccess: () =>
              // The render itself stays interruptible, so closing the simulator stops it.
              Effect.interruptible(produce(moved, workDir, binary)).pipe(
                Effect.flatMap((path) => finish(deferred, path)),
                Effect.provide(context),
                Effect.forkIn(scope),
                Effect.asVoid
              )
          })
        )
      })

    // Inserting the entry and starting its render are one step that cannot be interrupted: a
    // caller whose client goes away in between would otherwise leave an entry nothing completes,
    // and every later job with these inputs would stay PROCESSING forever.
    const render = (input: RenderInput) =>
      Effect.uninterruptible(
        Effect.gen(function* () {
          const fresh = yield* Deferred.make<RenderedVideo>()
          const [deferred, isNew] = yield* Ref.modify(
            renders,
            (map): readonly [readonly [Deferred.Deferred<RenderedVideo>, boolean], RenderCache] => {
              const found = HashMap.get(map, input.key)
              return Option.isSome(found) ? [[found.value, false], map] : [[fresh, true], HashMap.set(map, input.key, fresh)]
            }
          )
          if (!isNew) return deferred
          if (Option.isNone(ffmpeg)) yield* finish(deferred, placeholderPath)
          else yield* moveAndStart(input, deferred, ffmpeg.value)
          return deferred
        })
      )

    const renderer: VideoRenderer = {
      engine: Option.isSome(ffmpeg) ? "ffmpeg" : "placeholder",
      placeholderPath,
      render
    }
    return renderer
  })
